/**
 * Port of the Python original's examples/test_embeddings_sg.py: does the model answer
 * /v1/embeddings? Shows agent 0's raw answer (status, headers, body) to one request, through
 * `pool.request` (Python: a hand-built aiohttp request), then scatters a few texts over the
 * agents with `scatterGatherEmbeddings` and prints each result in input order.
 *
 *   node dist/examples/test-embeddings-sg.js [--hostfile hostfile.txt] [--model NAME]
 *     [--timeout 60] [--concurrency 16] [--role embed]
 *
 * `--role ""` uses every agent of the hostfile. Exit status 1 unless every text was embedded.
 */
import { EmbeddingPool, scatterGatherEmbeddings } from '../src/index.js';
import {
  argumentValue,
  exampleCommandLine,
  logWithTimestamp,
  openExampleSwarm,
} from './example-swarm.js';

exampleCommandLine(
  "Port of test_embeddings_sg.py: agent 0's raw /v1/embeddings answer, then a few texts embedded by scatter-gather over the agents tagged role=--role (embed).",
  { '--timeout': 'number', '--concurrency': 'number', '--role': 'string' },
);

const model = argumentValue('--model') ?? 'sentence-transformers/all-MiniLM-L6-v2';
const role = argumentValue('--role') ?? 'embed';
const timeoutMs = Number(argumentValue('--timeout') ?? 60) * 1000;
const concurrency = Number(argumentValue('--concurrency') ?? 16);

const swarm = await openExampleSwarm({
  mockAgents: 3,
  tags: () => ({ role: 'embed' }),
  perAgent: () => ({ task: 'embed', model: 'sentence-transformers/all-MiniLM-L6-v2' }),
});
let embeddings: EmbeddingPool | undefined;
try {
  const endpoints = role
    ? swarm.endpoints.filter((endpoint) => endpoint.tags.role === role)
    : swarm.endpoints;
  if (endpoints.length === 0)
    throw new Error(`No endpoints in hostfile with role=${JSON.stringify(role)}.`);
  logWithTimestamp('='.repeat(60));
  logWithTimestamp('Embeddings test (scatter-gather)');
  logWithTimestamp('='.repeat(60));
  logWithTimestamp(`Hostfile: ${swarm.origin}, endpoints: ${endpoints.length}, model: ${model}`);
  embeddings = new EmbeddingPool({
    endpoints,
    model,
    proxyUrl: swarm.proxyUrl,
    timeoutMs,
    concurrency,
  });
  const texts = ['Hello world.', 'Embeddings test.', 'Scatter-gather pattern.'];

  // The raw answer of agent 0 to one request.
  const payload = { model, input: [texts[0]] };
  logWithTimestamp(`Raw request: POST ${endpoints[0]!.url}/v1/embeddings`);
  logWithTimestamp(`Request body: ${JSON.stringify(payload, null, 2)}`);
  const raw = await embeddings.request(0, '/v1/embeddings', {
    method: 'POST',
    headers: { authorization: 'Bearer EMPTY', 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const body = await raw.text();
  logWithTimestamp('Raw server response:');
  process.stderr.write(`  Status: ${raw.status} ${raw.statusText}\n`);
  for (const [name, value] of raw.headers) process.stderr.write(`  ${name}: ${value}\n`);
  logWithTimestamp('Response body:');
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    process.stderr.write(`${JSON.stringify(parsed, null, 2)}\n`);
    if (/does not exist/.test(parsed.error?.message ?? '') || raw.status === 404) {
      logWithTimestamp('Hint: Query the server with GET /v1/models to see available model IDs.');
    }
  } catch {
    process.stderr.write(`${body}\n`);
  }
  logWithTimestamp('-'.repeat(60));

  logWithTimestamp(`Scattering ${texts.length} texts across ${embeddings.size} agents...`);
  const results = await scatterGatherEmbeddings(embeddings, texts);
  const ok = results.filter((result) => result.success).length;
  logWithTimestamp(`Gathered: ${ok}/${results.length} succeeded.`);
  console.log();
  results.forEach((result, index) => {
    const text = texts[index] ?? '';
    const preview = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    console.log(
      `  [${index}] ${result.success ? 'OK' : 'FAIL'} (agent ${result.agentIndex}) ${JSON.stringify(preview)}`,
    );
    if (result.success && result.embedding) {
      console.log(
        `       dimension=${result.embedding.length}, first 3 values: ${JSON.stringify(result.embedding.slice(0, 3))}`,
      );
    }
    if (result.error) console.log(`       error: ${result.error}`);
  });
  logWithTimestamp('='.repeat(60));
  if (ok !== results.length) process.exitCode = 1;
} finally {
  await embeddings?.close();
  await swarm.close();
}
