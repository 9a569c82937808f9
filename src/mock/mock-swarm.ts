import { writeFile } from 'node:fs/promises';
import { InvalidOptionError } from '../errors.js';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { formatHostfile } from '../hostfile/format-hostfile.js';
import { describeValue } from '../internal/describe-value.js';
import {
  DEFAULT_MOCK_BEHAVIOR,
  type MockAgentBehavior,
  resolveMockBehavior,
} from './mock-behavior.js';
import { type SharedInFlight, SimulatedAgent } from './simulated-agent.js';

/** Options of {@link startMockSwarm}. */
export interface MockSwarmOptions {
  /** Number of agents. */
  count: number;
  /** Address every agent listens on. Loopback only is wise. @default '127.0.0.1' */
  host?: string;
  /** Port of agent 0; agent i listens on basePort + i. 0 gives each agent a free port. @default 0 */
  basePort?: number;
  /** Behaviour of every agent. @default DEFAULT_MOCK_BEHAVIOR */
  behavior?: Partial<MockAgentBehavior>;
  /** Per-agent overrides on top of `behavior`. */
  perAgent?: (index: number) => Partial<MockAgentBehavior> | undefined;
  /** Tags written to the hostfile for agent i, e.g. `{ role: 'worker' }`. */
  tags?: (index: number) => Record<string, string> | undefined;
  /** How many recent requests each agent keeps in `requests` (0: none, for benchmarks). @default 1000 */
  recordLimit?: number;
}

/** A running simulated swarm. */
export interface MockSwarm {
  /** The agents, index = hostfile line. */
  readonly agents: readonly SimulatedAgent[];
  /** Endpoints of the agents, with the tags given in the options. */
  readonly endpoints: readonly AgentEndpoint[];
  /** Hostfile text listing the agents. */
  readonly hostfileText: string;
  /** Requests in flight across the whole swarm, and the peak since start or `resetStats()`. */
  readonly inFlight: Readonly<SharedInFlight>;
  /** Write the hostfile to `path`. */
  writeHostfile(path: string): Promise<void>;
  /** Reset every agent's counters and the swarm's peak. */
  resetStats(): void;
  /** Stop every agent and cut open connections. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Start `count` simulated vLLM agents in this process, one HTTP server each.
 *
 * @example
 * const swarm = await startMockSwarm({ count: 4 });
 * await swarm.writeHostfile('hostfile.txt');
 * // ... later
 * await swarm.close();
 */
export async function startMockSwarm(options: MockSwarmOptions): Promise<MockSwarm> {
  const { count, host = '127.0.0.1', basePort = 0, recordLimit } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidOptionError(`count must be a positive integer, got ${describeValue(count)}`);
  }
  if (
    !Number.isInteger(basePort) ||
    basePort < 0 ||
    (basePort > 0 && basePort + count - 1 > 65535)
  ) {
    throw new InvalidOptionError(
      `basePort must be 0 or a port with room for ${count} agents, got ${describeValue(basePort)}`,
    );
  }
  const base = resolveMockBehavior(DEFAULT_MOCK_BEHAVIOR, options.behavior);
  const shared: SharedInFlight = { inFlight: 0, peakInFlight: 0 };
  const agents: SimulatedAgent[] = [];
  for (let index = 0; index < count; index++) {
    agents.push(
      new SimulatedAgent({
        index,
        host,
        port: basePort === 0 ? 0 : basePort + index,
        behavior: resolveMockBehavior(base, options.perAgent?.(index)),
        shared,
        ...(recordLimit === undefined ? {} : { recordLimit }),
      }),
    );
  }
  try {
    await Promise.all(agents.map((agent) => agent.start()));
  } catch (error) {
    await Promise.all(agents.map((agent) => agent.stop()));
    throw error;
  }
  const endpoints = agents.map((agent, index) => {
    const endpoint = agent.endpoint;
    const tags = options.tags?.(index) ?? {};
    return { ...endpoint, tags: Object.freeze({ ...tags }) };
  });
  const hostfileText = formatHostfile(endpoints);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= Promise.all(agents.map((agent) => agent.stop())).then(() => undefined);
    return closing;
  };
  return {
    agents,
    endpoints,
    hostfileText,
    inFlight: shared,
    writeHostfile: (path) => writeFile(path, hostfileText),
    resetStats() {
      for (const agent of agents) agent.resetStats();
      shared.peakInFlight = shared.inFlight;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
