/**
 * Entry point of the child process that sends one burst through the proxy with a
 * `VLLMPool` (`proxyUrl`): a broadcast to every agent, then a scatter-gather of N
 * prompts, as a user's script would. Its own process, so the proxy's memory is
 * measured apart from the client's.
 *
 * argv[2]: JSON {@link BurstClientOptions}. Prints `BURST DONE {...}` and exits.
 */
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { broadcast } from '../../src/patterns/broadcast.js';
import { scatterGather } from '../../src/patterns/scatter-gather.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';

/** What the parent asks for. */
export interface BurstClientOptions {
  proxyUrl: string;
  /** The agents' ports, in hostfile order (the pool addresses them as /agent/{i}/). */
  ports: number[];
  prompts: number;
  concurrency: number;
  deadlineMs: number;
}

/** What the child reports. */
export interface BurstClientSummary {
  broadcastSucceeded: number;
  scatterSucceeded: number;
  elapsedMs: number;
  firstError?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as BurstClientOptions;
const controller = new AbortController();
const deadline = setTimeout(() => controller.abort(), options.deadlineMs);
const pool = new VLLMPool({
  endpoints: options.ports.map((port) => createEndpoint('127.0.0.1', port, {})),
  concurrency: options.concurrency,
  model: 'mock-model',
  maxTokens: 8,
  modelMaxContext: 8192,
  proxyUrl: options.proxyUrl,
});
const startedAt = performance.now();
let firstError: string | undefined;
const count = (responses: readonly { success: boolean; error?: string | null }[]) => {
  let succeeded = 0;
  for (const response of responses) {
    if (response.success) succeeded++;
    else firstError ??= response.error ?? 'failed';
  }
  return succeeded;
};
const broadcastSucceeded = count(
  await broadcast(pool, 'What is DNA?', { signal: controller.signal }),
);
const prompts = Array.from({ length: options.prompts }, (_, index) => `Prompt ${index}: DNA?`);
const scatterSucceeded = count(await scatterGather(pool, prompts, { signal: controller.signal }));
clearTimeout(deadline);
await pool.close();
const summary: BurstClientSummary = {
  broadcastSucceeded,
  scatterSucceeded,
  elapsedMs: performance.now() - startedAt,
  ...(firstError === undefined ? {} : { firstError }),
};
process.stdout.write(`BURST DONE ${JSON.stringify(summary)}\n`, () => process.exit(0));
