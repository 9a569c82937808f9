// Per-agent raw access: the official OpenAI client for one agent, and any other route.
import OpenAI from 'openai';
import { startMockSwarm, VLLMPool } from '../../src/index.js';

const swarm = await startMockSwarm({
  count: 4,
  tags: (index) => ({ role: index < 2 ? 'left' : 'right' }),
});
try {
  await using pool = new VLLMPool({ endpoints: swarm.endpoints }); // add proxyUrl: the same code
  const right = pool.byTag('role', 'right'); // hostfile lines 2 and 3
  // Agent 1 of the sub-pool is hostfile line 3; through the proxy the config names
  // {proxyUrl}/agent/3/v1 and carries X-Timeout and the proxy token.
  const client = new OpenAI({ apiKey: 'EMPTY', ...right.openaiConfig(1) });
  const models = await client.models.list();
  console.log(
    'agent 3 serves',
    models.data.map((model) => model.id),
  );
  const completion = await client.completions.create({
    model: models.data[0]!.id,
    prompt: 'The lacZ gene encodes',
    max_tokens: 16,
  });
  console.log(completion.choices[0]?.text.slice(0, 40));

  // Any other route, routed the same way: a WHATWG Response.
  const metrics = await right.request(0, '/metrics');
  console.log('agent 2 /metrics:', metrics.status, (await metrics.text()).split('\n')[0]);
  const tokens = await right.request(1, '/tokenize', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: models.data[0]!.id, prompt: 'Hello, swarm!' }),
  });
  console.log('tokens:', ((await tokens.json()) as { count: number }).count);
} finally {
  await swarm.close();
}
