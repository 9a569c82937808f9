/**
 * Port of the Python original's examples/lab3_semantic_uncertainty.py: for each prompt, sample
 * `--num-samples` answers from the LLM agents (`scatterGather` of the prompt repeated), embed
 * them with the embedding agents (`scatterGatherEmbeddings`), and measure the uncertainty with
 * cluster-based semantic entropy, kernel language entropy (`--method kle`), or a probe trained
 * on hidden states (`--method probe --probe probe.npz --hidden-states X.npy`; a probe saved by
 * the Python original loads as is).
 *
 * Embedding agents: those of `--embed-hostfile`, else the hostfile's agents tagged
 * `role=<--embed-role>` (default `embed`; `--embed-role ""` uses every agent), which are then
 * left out of the sampling. As the Python script (whose VLLMPool batches by default) the
 * samples go out in batch mode, one /v1/completions prompt list per agent; `--chat` samples
 * with chat completions instead.
 *
 *   node dist/examples/lab3-semantic-uncertainty.js [--hostfile agents.txt] [--embed-hostfile F]
 *     [--embed-role embed] [--model NAME] [--embed-model NAME] [--embed-max-tokens 128]
 *     [--prompt TEXT | --prompts FILE] [--num-samples 8] [--method semantic_entropy|kle|probe]
 *     [--similarity-threshold 0.9] [--kle-kernel cosine|rbf] [--probe F] [--hidden-states F]
 *     [--timeout 300] [--concurrency 64] [--max-tokens 512] [--output results.jsonl] [--chat]
 *
 * Deviations from the Python script: without --prompt or --prompts it asks one built-in
 * question (Python stops); an uncertainty that could not be computed is written as `null`
 * (Python writes `NaN`, which is not JSON).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type AgentEndpoint,
  EmbeddingPool,
  kernelLanguageEntropy,
  loadProbe,
  parseHostfile,
  predictSemanticEntropy,
  readNpyMatrix,
  scatterGather,
  scatterGatherEmbeddings,
  semanticEntropy,
  VLLMPool,
} from '../src/index.js';
import {
  argumentValue,
  exampleCommandLine,
  exampleUsageError,
  logWithTimestamp,
  openExampleSwarm,
} from './example-swarm.js';

exampleCommandLine(
  'Port of lab3_semantic_uncertainty.py: sample --num-samples answers per prompt, embed them, and measure semantic entropy, kernel language entropy (--method kle) or a probe prediction (--method probe).',
  {
    '--embed-hostfile': 'string',
    '--embed-role': 'string',
    '--embed-model': 'string',
    '--embed-max-tokens': 'number',
    '--prompt': 'string',
    '--prompts': 'string',
    '--num-samples': 'number',
    '--method': 'string',
    '--similarity-threshold': 'number',
    '--kle-kernel': 'string',
    '--probe': 'string',
    '--hidden-states': 'string',
    '--timeout': 'number',
    '--concurrency': 'number',
    '--max-tokens': 'number',
    '--output': 'string',
    '--chat': 'boolean',
  },
);

const method = argumentValue('--method') ?? 'semantic_entropy';
if (!['semantic_entropy', 'kle', 'probe'].includes(method)) {
  exampleUsageError(
    `--method must be semantic_entropy, kle or probe, got ${JSON.stringify(method)}`,
  );
}
const kernel = argumentValue('--kle-kernel') ?? 'cosine';
if (kernel !== 'cosine' && kernel !== 'rbf') {
  exampleUsageError(`--kle-kernel must be cosine or rbf, got ${JSON.stringify(kernel)}`);
}
const probePath = argumentValue('--probe');
const hiddenStatesPath = argumentValue('--hidden-states');
if (method === 'probe' && (!probePath || !hiddenStatesPath)) {
  exampleUsageError('--method probe requires --probe and --hidden-states');
}
const embedHostfile = argumentValue('--embed-hostfile');
const embedRole = argumentValue('--embed-role') ?? 'embed';
const embedModel = argumentValue('--embed-model') ?? 'sentence-transformers/all-MiniLM-L6-v2';
const embedMaxChars = Math.max(
  1,
  Math.floor(Number(argumentValue('--embed-max-tokens') ?? 128)) * 4,
);
const samples = Math.max(1, Math.floor(Number(argumentValue('--num-samples') ?? 8)));
const similarityThreshold = Number(argumentValue('--similarity-threshold') ?? 0.9);
const timeoutMs = Number(argumentValue('--timeout') ?? 300) * 1000;
const concurrency = Number(argumentValue('--concurrency') ?? 64);
const maxTokens = Number(argumentValue('--max-tokens') ?? 512);
const output = argumentValue('--output');
const chat = process.argv.includes('--chat');

function readPrompts(): string[] {
  const single = argumentValue('--prompt');
  if (single !== undefined) return [single];
  const file = argumentValue('--prompts');
  if (file === undefined) return ['What causes antibiotic tolerance in bacteria? One sentence.'];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const prompts = readPrompts();
// Simulated: four LLM agents answering in two camps, two embedding agents (role=embed).
const swarm = await openExampleSwarm({
  mockAgents: 6,
  tags: (index): Record<string, string> => (index >= 4 ? { role: 'embed' } : {}),
  perAgent: (index) =>
    index >= 4 ? { task: 'embed', model: 'sentence-transformers/all-MiniLM-L6-v2' } : undefined,
  reply: (_prompt, agentIndex) =>
    agentIndex % 2 === 0
      ? 'Persister cells that stop growing survive the drug.'
      : 'Biofilms shield the bacteria from the antibiotic.',
});
let pool: VLLMPool | undefined;
let embeddings: EmbeddingPool | undefined;
try {
  logWithTimestamp('='.repeat(60));
  logWithTimestamp('Lab 3: Semantic uncertainty');
  logWithTimestamp('='.repeat(60));
  logWithTimestamp(
    `LLM hostfile: ${swarm.origin}  prompts: ${prompts.length}  S: ${samples}  method: ${method}`,
  );
  const all = swarm.endpoints;
  const embedEndpoints: readonly AgentEndpoint[] = embedHostfile
    ? parseHostfile(embedHostfile)
    : embedRole
      ? all.filter((endpoint) => endpoint.tags.role === embedRole)
      : all;
  if (embedEndpoints.length === 0) {
    throw new Error('No embedding endpoints resolved (check --embed-hostfile or --embed-role).');
  }
  // Sampling never goes to embedding-only servers of the same hostfile.
  const llmEndpoints =
    !embedHostfile && embedRole ? all.filter((endpoint) => endpoint.tags.role !== embedRole) : all;
  if (llmEndpoints.length === 0) {
    throw new Error(
      `After excluding embed_role=${JSON.stringify(embedRole)}, no LLM endpoints remain. Provide a separate --embed-hostfile or adjust --embed-role.`,
    );
  }
  logWithTimestamp(`Embedding endpoints: ${embedEndpoints.length}  embed_model: ${embedModel}`);
  logWithTimestamp(`LLM endpoints (non-embed): ${llmEndpoints.length}`);
  pool = new VLLMPool({
    endpoints: llmEndpoints,
    model: argumentValue('--model'),
    proxyUrl: swarm.proxyUrl,
    maxTokens,
    timeoutMs,
    concurrency,
    batch: !chat,
  });
  embeddings = new EmbeddingPool({
    endpoints: embedEndpoints,
    model: embedModel,
    proxyUrl: swarm.proxyUrl,
    timeoutMs,
    concurrency,
  });

  let probe: ReturnType<typeof loadProbe> | undefined;
  let hiddenStates: number[][] | undefined;
  if (method === 'probe') {
    probe = loadProbe(probePath!);
    hiddenStates = readNpyMatrix(hiddenStatesPath!);
    if (hiddenStates.length !== prompts.length) {
      throw new Error(
        `hidden-states rows (${hiddenStates.length}) must match number of prompts (${prompts.length}).`,
      );
    }
    logWithTimestamp(`Loaded probe: ${probePath}  meta: ${JSON.stringify(probe.metadata ?? {})}`);
  }

  const results: Record<string, unknown>[] = [];
  for (const [promptId, prompt] of prompts.entries()) {
    logWithTimestamp(
      `[${promptId}] sampling ${samples} responses across ${pool.size} endpoint(s)...`,
    );
    const responses = await scatterGather(pool, new Array<string>(samples).fill(prompt));
    const texts = responses
      .filter((response) => response.success && response.text.trim() !== '')
      .map((response) => response.text);
    const result = (embedded: number, uncertainty: number | null) =>
      results.push({
        prompt_id: promptId,
        prompt,
        num_responses: texts.length,
        num_embeddings: embedded,
        uncertainty,
        method,
      });
    if (texts.length === 0) {
      result(0, null);
      continue;
    }
    // Embedding servers have strict input limits: cut each answer at a line boundary.
    const forEmbedding = texts.map((text) => {
      const head = text.slice(0, embedMaxChars);
      return head.includes('\n') ? head.slice(0, head.lastIndexOf('\n')) : head;
    });
    const vectors = (await scatterGatherEmbeddings(embeddings, forEmbedding))
      .filter((response) => response.success && response.embedding !== undefined)
      .map((response) => response.embedding as number[]);
    if (vectors.length === 0) {
      logWithTimestamp(
        `[${promptId}] embedding failures: ${texts.length}/${texts.length} (all failed)`,
      );
      result(0, null);
      continue;
    }
    const uncertainty =
      method === 'semantic_entropy'
        ? semanticEntropy(vectors, { similarityThreshold })
        : method === 'kle'
          ? kernelLanguageEntropy(vectors, { kernel })
          : predictSemanticEntropy(probe!, hiddenStates![promptId]!);
    result(vectors.length, uncertainty);
    logWithTimestamp(
      `[${promptId}] uncertainty=${uncertainty.toFixed(4)}  responses=${texts.length}  emb_ok=${vectors.length}`,
    );
  }
  const lines = results.map((record) => JSON.stringify(record));
  if (output) {
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, `${lines.join('\n')}\n`);
    logWithTimestamp(`Wrote ${lines.length} results to ${output}`);
  } else {
    console.log(lines.join('\n'));
  }
  logWithTimestamp('='.repeat(60));
} finally {
  await pool?.close();
  await embeddings?.close();
  await swarm.close();
}
