/** Start a benchmark's simulated agents in a child process. */
import type { MockAgentBehavior } from '../../src/mock/mock-behavior.js';
import { benchScript, type RunningChild, startChild } from './child-process.js';

/** Simulated agents running in a child process. */
export interface AgentsProcess {
  readonly child: RunningChild;
  readonly ports: readonly number[];
  /** Hostfile text listing the agents (127.0.0.1, tab, port). */
  readonly hostfileText: string;
  /** Totals of the agents' counters. */
  stats(): Promise<{ requests: number; completed: number; aborted: number; peakInFlight: number }>;
  stop(): Promise<void>;
}

/** Start `count` agents with `behavior` in a child process pinned to `cpus`. */
export async function startAgentsProcess(
  count: number,
  behavior: Partial<MockAgentBehavior>,
  cpus?: string,
): Promise<AgentsProcess> {
  const child = await startChild(
    process.execPath,
    [benchScript('lib/agents-child.js'), JSON.stringify({ count, behavior, lifetimeMs: 900_000 })],
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
    hostfileText: ports.map((port) => `127.0.0.1\t${port}\n`).join(''),
    async stats() {
      const reply = child.waitFor(/^AGENTS STATS (.+)$/, 10_000);
      child.send('stats');
      return JSON.parse((await reply)[1] as string);
    },
    async stop() {
      await child.stop();
    },
  };
}
