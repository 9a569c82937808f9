/**
 * Entry point of the child process of bench/batch-mode.ts: one scatter of N prompts over the
 * agents, in one of four ways, so its CPU belongs to that run alone.
 *
 * - `per-prompt`: `scatterGather` on a `VLLMPool` (one chat completion per prompt).
 * - `batch`: `scatterGather` on a `VLLMPool({ batch: true })` (one prompt list per agent share).
 * - `bare-per-prompt`, `bare-batch`: the same requests from a bare undici loop (one `Agent`,
 *   `request()`, the body read and parsed, nothing else) — the JavaScript floor of each way.
 *
 * argv[2]: JSON {@link BatchClientOptions}. Prints `BATCH CLIENT DONE {...}` and exits.
 */
import { Agent } from 'undici';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { scatterGather } from '../../src/patterns/scatter-gather.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';

/** The four ways to send the scatter. */
export type BatchClientMode = 'per-prompt' | 'batch' | 'bare-per-prompt' | 'bare-batch';

/** What the parent asks for. */
export interface BatchClientOptions {
  ports: number[];
  prompts: number;
  mode: BatchClientMode;
  /** Requests in flight (pool concurrency / bare loop width). */
  concurrency: number;
  /** The model the agents serve. */
  model: string;
  deadlineMs: number;
}

/** What the child reports. */
export interface BatchClientSummary {
  mode: BatchClientMode;
  prompts: number;
  succeeded: number;
  elapsedMs: number;
  promptsPerSecond: number;
  cpuMs: number;
  cpuUsPerPrompt: number;
  firstError?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as BatchClientOptions;
const controller = new AbortController();
const deadline = setTimeout(() => controller.abort(), options.deadlineMs);
const prompts = Array.from(
  { length: options.prompts },
  (_, index) => `Prompt number ${index}: what is DNA?`,
);
const MAX_TOKENS = 8;

async function viaPool(batch: boolean): Promise<{ succeeded: number; firstError?: string }> {
  await using pool = new VLLMPool({
    endpoints: options.ports.map((port) => createEndpoint('127.0.0.1', port, {})),
    concurrency: options.concurrency,
    model: options.model,
    maxTokens: MAX_TOKENS,
    modelMaxContext: 8192,
    proxyUrl: null,
    batch,
  });
  const responses = await scatterGather(pool, prompts, { signal: controller.signal });
  let succeeded = 0;
  let firstError: string | undefined;
  for (const response of responses) {
    if (response.success) succeeded++;
    else firstError ??= response.error;
  }
  return firstError === undefined ? { succeeded } : { succeeded, firstError };
}

/** The bare loop: `width` workers pulling request bodies, each read and JSON-parsed. */
async function viaUndici(batch: boolean): Promise<{ succeeded: number; firstError?: string }> {
  const agent = new Agent({ connections: options.concurrency, headersTimeout: 0, bodyTimeout: 0 });
  const agents = options.ports.length;
  // One job per request: [agent, body, prompts it answers].
  const jobs: [number, string, number][] = [];
  if (batch) {
    for (let agentIndex = 0; agentIndex < Math.min(agents, prompts.length); agentIndex++) {
      const share = prompts.filter((_, index) => index % agents === agentIndex);
      jobs.push([
        agentIndex,
        JSON.stringify({ model: options.model, prompt: share, max_tokens: MAX_TOKENS }),
        share.length,
      ]);
    }
  } else {
    prompts.forEach((prompt, index) => {
      jobs.push([
        index % agents,
        JSON.stringify({
          model: options.model,
          messages: [{ role: 'user', content: prompt }],
          max_tokens: MAX_TOKENS,
        }),
        1,
      ]);
    });
  }
  let next = 0;
  let succeeded = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < jobs.length) {
      const [agentIndex, body, answers] = jobs[next++]!;
      const response = await agent.request({
        origin: `http://127.0.0.1:${options.ports[agentIndex]}`,
        path: batch ? '/v1/completions' : '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: controller.signal,
      });
      const json = (await response.body.json()) as { choices?: unknown[] };
      if (response.statusCode === 200 && json.choices?.length === answers) succeeded += answers;
      else firstError ??= `HTTP ${response.statusCode}`;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, jobs.length) }, worker));
  await agent.close();
  return firstError === undefined ? { succeeded } : { succeeded, firstError };
}

const cpuStart = process.cpuUsage();
const startedAt = performance.now();
const outcome =
  options.mode === 'per-prompt'
    ? await viaPool(false)
    : options.mode === 'batch'
      ? await viaPool(true)
      : await viaUndici(options.mode === 'bare-batch');
const elapsedMs = performance.now() - startedAt;
const cpu = process.cpuUsage(cpuStart);
clearTimeout(deadline);
const cpuMs = (cpu.user + cpu.system) / 1000;
const summary: BatchClientSummary = {
  mode: options.mode,
  prompts: options.prompts,
  elapsedMs,
  promptsPerSecond: (options.prompts * 1000) / elapsedMs,
  cpuMs,
  cpuUsPerPrompt: (cpuMs * 1000) / options.prompts,
  ...outcome,
};
process.stdout.write(`BATCH CLIENT DONE ${JSON.stringify(summary)}\n`, () => process.exit(0));
