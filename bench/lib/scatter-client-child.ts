/**
 * Entry point of the child process that runs one scatter over the agents, so that its peak
 * RSS (getrusage maxRSS) and CPU belong to that run alone. Three ways:
 *
 * - `array`: `scatterGather(pool, prompts)` on a `VLLMPool` (results held, in input order);
 * - `stream`: `scatterGatherStream(pool, generator)` (results counted, not held);
 * - `bare`: the JavaScript ceiling — one undici `Agent` and `width` workers, each doing
 *   nothing but `JSON.stringify` of the chat body, `agent.request()` and `body.json()`,
 *   prompt i to agent i % n, every parsed answer kept in an array as `array` keeps its
 *   responses.
 * - `idle`: imports and builds the pool, sends nothing: Node's own baseline RSS.
 *
 * argv[2]: JSON {@link ScatterClientOptions}. Prints `SCATTER DONE {...}` and exits.
 * With `--cpu-prof` (node flag) the run leaves a CPU profile in the working directory.
 */
// The package root, as a script imports it (`from 'aurora-swarm'`): what it loads counts.
import { createEndpoint, scatterGather, scatterGatherStream, VLLMPool } from '../../src/index.js';

/** The ways to run the scatter. */
export type ScatterClientMode = 'array' | 'stream' | 'bare' | 'idle';

/** What the parent asks for. */
export interface ScatterClientOptions {
  ports: number[];
  prompts: number;
  mode: ScatterClientMode;
  /** Pool concurrency, or the bare loop's number of workers. */
  concurrency: number;
  /** The model the agents serve. */
  model: string;
  /** Give up after this long, in milliseconds. */
  deadlineMs: number;
}

/** What the child reports. */
export interface ScatterClientSummary {
  mode: ScatterClientMode;
  prompts: number;
  succeeded: number;
  elapsedMs: number;
  requestsPerSecond: number;
  cpuMs: number;
  cpuUsPerRequest: number;
  peakRssMb: number;
  /** process.memoryUsage() at the end, results still referenced (MB). */
  endHeapUsedMb: number;
  endRssMb: number;
  firstError?: string;
}

const MAX_TOKENS = 8;
const options = JSON.parse(process.argv[2] ?? '{}') as ScatterClientOptions;
const controller = new AbortController();
// The bare loop takes no signal (a signal is work undici does per request): past the
// deadline the child just exits, and the parent reports the missing summary line.
const deadline = setTimeout(
  () => (options.mode === 'bare' ? process.exit(3) : controller.abort()),
  options.deadlineMs,
);

function promptText(index: number): string {
  return `Prompt number ${index}: what is DNA?`;
}

function* prompts(count: number): Generator<string> {
  for (let index = 0; index < count; index++) yield promptText(index);
}

interface Outcome {
  succeeded: number;
  firstError?: string | undefined;
  /** Kept alive until the figures are taken, as a caller holds its results. */
  held?: unknown;
}

async function viaPool(mode: 'array' | 'stream' | 'idle'): Promise<Outcome> {
  const pool = new VLLMPool({
    endpoints: options.ports.map((port) => createEndpoint('127.0.0.1', port, {})),
    concurrency: options.concurrency,
    model: options.model,
    maxTokens: MAX_TOKENS,
    modelMaxContext: 8192,
    proxyUrl: null,
  });
  let succeeded = 0;
  let firstError: string | undefined;
  let held: unknown;
  try {
    if (mode === 'array') {
      const responses = await scatterGather(pool, Array.from(prompts(options.prompts)), {
        signal: controller.signal,
      });
      for (const response of responses) {
        if (response.success) succeeded++;
        else firstError ??= response.error;
      }
      held = responses;
    } else if (mode === 'stream') {
      for await (const { response } of scatterGatherStream(pool, prompts(options.prompts), {
        signal: controller.signal,
      })) {
        if (response.success) succeeded++;
        else firstError ??= response.error;
      }
    }
  } finally {
    await pool.close();
  }
  return { succeeded, firstError, held };
}

async function viaUndici(): Promise<Outcome> {
  // Loaded here, not at the top: the other modes must not carry undici's whole index.
  const { Agent } = await import('undici');
  const agent = new Agent({ connections: 1024, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
  const origins = options.ports.map((port) => `http://127.0.0.1:${port}`);
  const texts = Array.from(prompts(options.prompts));
  const answers = new Array<unknown>(texts.length);
  const headers = { 'content-type': 'application/json' };
  let next = 0;
  let succeeded = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < texts.length) {
      const index = next++;
      const response = await agent.request({
        origin: origins[index % origins.length] as string,
        path: '/v1/chat/completions',
        method: 'POST',
        headers,
        body: JSON.stringify({
          model: options.model,
          messages: [{ role: 'user', content: texts[index] }],
          max_tokens: MAX_TOKENS,
        }),
      });
      const json = (await response.body.json()) as { choices?: unknown[] };
      answers[index] = json;
      if (response.statusCode === 200 && json.choices?.length === 1) succeeded++;
      else firstError ??= `HTTP ${response.statusCode}`;
    }
  };
  const width = Math.min(options.concurrency, texts.length);
  await Promise.all(Array.from({ length: width }, worker));
  await agent.close();
  return { succeeded, firstError, held: answers };
}

const cpuStart = process.cpuUsage();
const startedAt = performance.now();
const outcome = options.mode === 'bare' ? await viaUndici() : await viaPool(options.mode);
const elapsedMs = performance.now() - startedAt;
const cpu = process.cpuUsage(cpuStart);
clearTimeout(deadline);
const memory = process.memoryUsage();
const cpuMs = (cpu.user + cpu.system) / 1000;
const sent = options.mode === 'idle' ? 0 : options.prompts;
const summary: ScatterClientSummary = {
  mode: options.mode,
  prompts: sent,
  succeeded: outcome.succeeded,
  elapsedMs,
  requestsPerSecond: (sent * 1000) / elapsedMs,
  cpuMs,
  cpuUsPerRequest: sent === 0 ? 0 : (cpuMs * 1000) / sent,
  peakRssMb: process.resourceUsage().maxRSS / 1024,
  endHeapUsedMb: memory.heapUsed / 2 ** 20,
  endRssMb: memory.rss / 2 ** 20,
  ...(outcome.firstError === undefined ? {} : { firstError: outcome.firstError }),
};
// The results stay referenced until the figures above are taken.
if (outcome.held === null) console.log('unreachable');
process.stdout.write(`SCATTER DONE ${JSON.stringify(summary)}\n`, () => process.exit(0));
