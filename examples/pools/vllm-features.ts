// VLLMPool specifics: context sizing, per-call options, batch mode, streaming.
import { startMockSwarm, VLLMPool } from '../../src/index.js';

const swarm = await startMockSwarm({ count: 2, behavior: { maxModelLen: 4096 } });
try {
  await using pool = new VLLMPool({ endpoints: swarm.endpoints, maxTokens: 1024 });

  // max_tokens = min(1024, max(128, 4096 - ceil(chars / 4) - 512)), max_model_len read once from /v1/models.
  await pool.post(0, 'x'.repeat(12_000));
  const sent = JSON.parse(swarm.agents[0]?.requests.at(-1)?.body ?? '{}');
  console.log('max_tokens sent for a 3000-token prompt:', sent.max_tokens); // 584

  // Per-call options: token budget, timeout, sampling parameters.
  const reduced = await pool.post(1, 'Summarise the answers.', {
    maxTokens: pool.maxTokensAggregation,
    timeoutMs: 600_000,
    extraBody: { temperature: 0 },
  });
  console.log('reducer:', reduced.text.slice(0, 40), reduced.usage);

  // Batch mode: each agent's share in one /v1/completions request.
  const batched = await pool.sendAllBatched(['p0', 'p1', 'p2', 'p3']);
  console.log(
    'batched:',
    batched.map((response) => response.text.slice(0, 7)),
  );

  // Streaming one call.
  const call = pool.stream(0, 'Tell me about the SOS response.');
  for await (const delta of call) process.stdout.write(delta);
  console.log('\nfinish:', (await call.response).finishReason);
} finally {
  await swarm.close();
}
