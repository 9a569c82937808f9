/**
 * Entry point of the child process that runs a benchmark's simulated agents, so
 * their CPU never counts against the process being measured.
 *
 * argv[2]: JSON `{ count, behavior, lifetimeMs }`. Prints one line
 * `AGENTS READY {"ports":[...]}` once listening; answers `stats` on stdin with
 * `AGENTS STATS {...}`; exits on SIGTERM, when stdin closes (the parent is gone),
 * or after `lifetimeMs`.
 */
import { createInterface } from 'node:readline';
import type { MockAgentBehavior } from '../../src/mock/mock-behavior.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';

interface AgentsChildOptions {
  count: number;
  behavior?: Partial<MockAgentBehavior>;
  /** Hard bound on the child's life, in milliseconds. */
  lifetimeMs?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as AgentsChildOptions;
const swarm = await startMockSwarm({
  count: options.count,
  host: '127.0.0.1',
  behavior: options.behavior ?? {},
  recordLimit: 0,
});
let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  void swarm.close().then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
setTimeout(shutdown, options.lifetimeMs ?? 600_000).unref();
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() !== 'stats') return;
    const totals = { requests: 0, completed: 0, aborted: 0, inFlight: 0, peakInFlight: 0 };
    for (const agent of swarm.agents) {
      totals.requests += agent.stats.requests;
      totals.completed += agent.stats.completed;
      totals.aborted += agent.stats.aborted;
    }
    totals.inFlight = swarm.inFlight.inFlight;
    totals.peakInFlight = swarm.inFlight.peakInFlight;
    process.stdout.write(`AGENTS STATS ${JSON.stringify(totals)}\n`);
  })
  .on('close', shutdown);
process.stdout.write(
  `AGENTS READY ${JSON.stringify({ ports: swarm.agents.map((agent) => agent.port) })}\n`,
);
