/**
 * Entry point of the child process that runs a benchmark's simulated agents, so
 * their CPU never counts against the process being measured.
 *
 * argv[2]: JSON `{ count, behavior, perAgent?, stopped?, lifetimeMs }`. Prints one line
 * `AGENTS READY {"ports":[...]}` once listening (the `stopped` agents are then closed, so
 * their ports refuse connections); answers `stats` on stdin with `AGENTS STATS {...}`
 * (totals, and per agent: requests, completed, aborted, and the milliseconds spent on
 * requests that completed or were aborted by the client — an agent's generation time, on
 * a real GPU — and `accepted`, the TCP connections the process accepted, counted on
 * node's `net.server.socket` diagnostics channel); `reset` zeroes them; exits on SIGTERM, when stdin closes (the parent is
 * gone), or after `lifetimeMs`.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createInterface } from 'node:readline';
import type { MockAgentBehavior } from '../../src/mock/mock-behavior.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';

interface AgentsChildOptions {
  count: number;
  behavior?: Partial<MockAgentBehavior>;
  /** Behaviour of agent i over `behavior` (JSON: no `reply` functions). */
  perAgent?: (Partial<MockAgentBehavior> | null)[];
  /** Agents closed once started: dead, their ports refuse connections. */
  stopped?: number[];
  /** Hard bound on the child's life, in milliseconds. */
  lifetimeMs?: number;
}

/** Connections accepted by every agent of this process since the start (or `reset`). */
let accepted = 0;
subscribe('net.server.socket', () => {
  accepted += 1;
});

const options = JSON.parse(process.argv[2] ?? '{}') as AgentsChildOptions;
const swarm = await startMockSwarm({
  count: options.count,
  host: '127.0.0.1',
  behavior: options.behavior ?? {},
  perAgent: (index) => options.perAgent?.[index] ?? undefined,
  recordLimit: 0,
});
const ports = swarm.agents.map((agent) => agent.port);
for (const index of options.stopped ?? []) await swarm.agents[index]?.stop();

interface BusyTime {
  completedMs: number;
  abortedMs: number;
}
const busy: BusyTime[] = swarm.agents.map(() => ({ completedMs: 0, abortedMs: 0 }));
const arrivals = new WeakMap<object, number>();
swarm.agents.forEach((agent, index) => {
  agent.on('request', (record: object) => arrivals.set(record, performance.now()));
  agent.on('abort', (record: object) => {
    const arrived = arrivals.get(record);
    if (arrived !== undefined) (busy[index] as BusyTime).abortedMs += performance.now() - arrived;
    arrivals.delete(record);
  });
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
    if (line.trim() === 'reset') {
      swarm.resetStats();
      accepted = 0;
      for (const time of busy) Object.assign(time, { completedMs: 0, abortedMs: 0 });
      process.stdout.write('AGENTS RESET\n');
      return;
    }
    if (line.trim() !== 'stats') return;
    const totals = {
      requests: 0,
      completed: 0,
      aborted: 0,
      inFlight: 0,
      peakInFlight: 0,
      accepted,
    };
    for (const agent of swarm.agents) {
      totals.requests += agent.stats.requests;
      totals.completed += agent.stats.completed;
      totals.aborted += agent.stats.aborted;
    }
    totals.inFlight = swarm.inFlight.inFlight;
    totals.peakInFlight = swarm.inFlight.peakInFlight;
    const perAgent = swarm.agents.map((agent, index) => ({
      requests: agent.stats.requests,
      completed: agent.stats.completed,
      aborted: agent.stats.aborted,
      abortedMs: Math.round((busy[index] as BusyTime).abortedMs),
    }));
    process.stdout.write(`AGENTS STATS ${JSON.stringify({ ...totals, perAgent })}\n`);
  })
  .on('close', shutdown);
process.stdout.write(`AGENTS READY ${JSON.stringify({ ports })}\n`);
