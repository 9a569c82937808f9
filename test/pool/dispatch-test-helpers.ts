/**
 * Helpers for the breaker, least-loaded and hedging tests: agents that are dead in a
 * countable way, and waiting on a pool's view of its agents.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import type { AgentHealthReport } from '../../src/pool/agent-states.js';
import type { AgentResponse } from '../../src/pool/types.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import type { VLLMPoolOptions } from '../../src/pool/vllm-pool-options.js';

type After = { after: (fn: () => Promise<void> | void) => void };

/** A model and context length up front: no /v1/models lookup muddles request counts. */
export const KNOWN_MODEL = { model: 'meta-llama/Llama-3.1-70B-Instruct', modelMaxContext: 8192 };

/** `count` simulated agents, closed when the test ends. */
export async function swarmOf(t: After, count: number) {
  const swarm = await startMockSwarm({ count });
  t.after(() => swarm.close());
  return swarm;
}

/** A TCP port that accepts connections and resets each at once: a dead agent that counts. */
export interface ResettingAgent {
  readonly endpoint: ReturnType<typeof createEndpoint>;
  /** Connections accepted (each one an attempt of a call). */
  readonly connections: number;
}

/** Start a {@link ResettingAgent} on 127.0.0.1:0, closed when the test ends. */
export async function startResettingAgent(t: After): Promise<ResettingAgent> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.resetAndDestroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close').catch(() => undefined);
  });
  return {
    endpoint: createEndpoint('127.0.0.1', port, {}),
    get connections() {
      return connections;
    },
  };
}

/**
 * A pool of two agents, both closed when the test ends: agent 0 a simulated agent that
 * answers, agent 1 a {@link ResettingAgent} (dead, counting its connections). The model is
 * known up front; `options` add to the pool's.
 */
export async function liveAndDeadPool(t: After, options: Partial<VLLMPoolOptions> = {}) {
  const swarm = await swarmOf(t, 1);
  const dead = await startResettingAgent(t);
  const pool = new VLLMPool({
    endpoints: [swarm.endpoints[0]!, dead.endpoint],
    ...KNOWN_MODEL,
    ...options,
  });
  t.after(() => pool.close());
  return { swarm, dead, pool };
}

/**
 * Poll `agentHealth()` until `condition` holds for the report of `agentIndex` (the breaker's
 * cooldown is a duration: this waits for the state it leads to, not for the time).
 */
export async function waitForAgentState(
  health: () => AgentHealthReport[],
  agentIndex: number,
  condition: (report: AgentHealthReport) => boolean,
): Promise<AgentHealthReport> {
  // Bounded so that a bug fails the test instead of hanging it.
  for (let poll = 0; poll < 2000; poll++) {
    const report = health()[agentIndex] as AgentHealthReport;
    if (condition(report)) return report;
    await delay(5);
  }
  throw new Error(`agent ${agentIndex} never reached the state waited for`);
}

/**
 * Call the live agent, then the dead one, until the dead one's breaker is open: a breaker
 * opens only once another agent answered during the failure streak. Returns the last
 * response of the dead agent (the one whose failure opened it).
 */
export async function openBreaker(
  health: () => AgentHealthReport[],
  callLive: () => Promise<{ success: boolean }>,
  callDead: () => Promise<{ failureKind?: string | undefined; error?: string | undefined }>,
  deadIndex: number,
) {
  for (let round = 0; round < 10; round++) {
    assert.equal((await callLive()).success, true);
    const dead = await callDead();
    if (health()[deadIndex]!.state === 'open') return dead;
  }
  assert.fail('the breaker never opened');
}

/** {@link openBreaker} with a pool's own `post`: `live` answers, `dead` does not. */
export function openPoolBreaker(
  pool: {
    agentHealth(): AgentHealthReport[];
    post(agentIndex: number, prompt: string): Promise<AgentResponse>;
  },
  live: number,
  dead: number,
) {
  return openBreaker(
    () => pool.agentHealth(),
    () => pool.post(live, 'live'),
    () => pool.post(dead, 'dead'),
    dead,
  );
}

/** Wait until `agent` has seen every request it received end in an abort (bounded polling). */
export async function allAbortedAt(agent: {
  readonly stats: { readonly requests: number; readonly aborted: number };
}): Promise<void> {
  for (let poll = 0; poll < 2000; poll++) {
    if (agent.stats.aborted === agent.stats.requests) return;
    await delay(5);
  }
  assert.fail(`${agent.stats.aborted} of ${agent.stats.requests} stalled calls seen aborted`);
}
