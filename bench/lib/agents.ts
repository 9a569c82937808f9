/** Start a benchmark's simulated agents in a child process. */
import type { MockAgentBehavior } from '../../src/mock/mock-behavior.js';
import { benchScript, type RunningChild, startChild } from './child-process.js';
import { loopbackHostfile } from './free-port.js';

/** Simulated agents running in a child process. */
export interface AgentsProcess {
  readonly child: RunningChild;
  readonly ports: readonly number[];
  /** Hostfile text listing the agents (127.0.0.1, tab, port). */
  readonly hostfileText: string;
  /** Totals of the agents' counters, and each agent's. */
  stats(): Promise<AgentsStats>;
  /** Zero the counters (between rounds). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The counters of one agent of an {@link AgentsProcess}. */
export interface AgentCounters {
  requests: number;
  completed: number;
  aborted: number;
  /** Milliseconds the agent spent on requests its client aborted. */
  abortedMs: number;
}

/** What {@link AgentsProcess.stats} reports. */
export interface AgentsStats {
  requests: number;
  completed: number;
  aborted: number;
  peakInFlight: number;
  /** TCP connections the agents' process accepted (all agents). */
  accepted: number;
  perAgent: AgentCounters[];
}

/** Extra options of {@link startAgentsProcess}. */
export interface AgentsProcessOptions {
  /** Behaviour of agent i over the common one. */
  perAgent?: (Partial<MockAgentBehavior> | null)[];
  /** Agents closed once started (dead: their ports refuse connections). */
  stopped?: number[];
}

/** Start `count` agents with `behavior` in a child process pinned to `cpus`. */
export async function startAgentsProcess(
  count: number,
  behavior: Partial<MockAgentBehavior>,
  cpus?: string,
  extra: AgentsProcessOptions = {},
): Promise<AgentsProcess> {
  const child = await startChild(
    process.execPath,
    [
      benchScript('lib/agents-child.js'),
      JSON.stringify({ count, behavior, lifetimeMs: 900_000, ...extra }),
    ],
    {
      name: 'agents',
      readyPattern: /^AGENTS READY (.+)$/,
      ...(cpus === undefined ? {} : { cpus }),
    },
  );
  const { ports } = JSON.parse(child.readyMatch?.[1] ?? '{}') as { ports: number[] };
  return {
    child,
    ports,
    hostfileText: loopbackHostfile(ports),
    async stats() {
      const reply = child.waitFor(/^AGENTS STATS (.+)$/, 10_000);
      child.send('stats');
      return JSON.parse((await reply)[1] as string);
    },
    async reset() {
      const reply = child.waitFor(/^AGENTS RESET$/, 10_000);
      child.send('reset');
      await reply;
    },
    async stop() {
      await child.stop();
    },
  };
}
