// Batch mode: each agent's share of a scatter as /v1/completions prompt lists.
import { scatterGather, startMockSwarm, VLLMPool } from '../../src/index.js';

const swarm = await startMockSwarm({ count: 4 });
try {
  await using pool = new VLLMPool({
    endpoints: swarm.endpoints,
    batch: true, // scatterGather, mapGather and sendAll send prompt lists
    batchSize: 5, // at most 5 prompts per request (default: an agent's whole share)
    timeoutPerSequenceMs: 60_000, // a batch of n waits max(timeoutMs, ceil(n / 256) × 60 s)
    batchTimeoutCapMs: 1_800_000, // ... but never more than 30 min
  });
  const prompts = Array.from({ length: 40 }, (_, index) => `Describe gene ${index}.`);
  const responses = await scatterGather(pool, prompts);
  const requests = swarm.agents.reduce((sum, agent) => sum + agent.stats.requests, 0);
  // 40 answers from 9 requests: 2 prompt lists per agent and the one /v1/models lookup.
  console.log(`${responses.length} answers in input order from ${requests} requests`);
  console.log(responses[7]?.text.slice(0, 40));

  // One batch to one agent (the Python original's post_batch).
  const batch = await pool.postBatch(2, ['first prompt', 'second prompt']);
  console.log(batch.map((response) => `${response.agentIndex}: ${response.text.slice(0, 20)}`));
} finally {
  await swarm.close();
}
