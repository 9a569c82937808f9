// Failures are values: timeouts, dead agents, agent error messages, aborts.
import { startMockSwarm, VLLMPool } from '../../src/index.js';

const swarm = await startMockSwarm({ count: 4 });
try {
  swarm.agents[1]?.setBehavior({ failure: 'hang' }); // never answers
  swarm.agents[2]?.setBehavior({ failure: 'status', failureStatus: 500 }); // vLLM error JSON
  await swarm.agents[3]?.stop(); // connection refused
  await using pool = new VLLMPool({ endpoints: swarm.endpoints, timeoutMs: 500, retryDelayMs: 10 });
  for (const response of await pool.broadcastPrompt('hello')) {
    console.log(
      response.agentIndex,
      response.success ? 'ok' : `${response.failureKind}: ${response.error}`,
    );
  }
  const controller = new AbortController();
  const pending = pool.post(1, 'this one hangs', { signal: controller.signal, timeoutMs: 60_000 });
  controller.abort();
  console.log('aborted:', (await pending).failureKind);
  console.log('out of range:', (await pool.post(99, 'x')).error);
} finally {
  await swarm.close();
}
