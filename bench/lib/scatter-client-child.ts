/**
 * Entry point of the child process that runs one scatter-gather over the agents
 * with a `VLLMPool`, so its peak RSS (VmHWM) and CPU belong to that run alone.
 *
 * argv[2]: JSON {@link ScatterClientOptions}. Prints `SCATTER DONE {...}` and exits.
 */
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { scatterGather } from '../../src/patterns/scatter-gather.js';
import { scatterGatherStream } from '../../src/patterns/scatter-gather-stream.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';

/** What the parent asks for. */
export interface ScatterClientOptions {
  ports: number[];
  prompts: number;
  /** `array`: scatterGather over an array; `stream`: scatterGatherStream over a generator. */
  mode: 'array' | 'stream';
  concurrency: number;
  /** Give up after this long, in milliseconds. */
  deadlineMs: number;
}

/** What the child reports. */
export interface ScatterClientSummary {
  mode: string;
  prompts: number;
  succeeded: number;
  elapsedMs: number;
  requestsPerSecond: number;
  cpuMs: number;
  cpuUsPerRequest: number;
  peakRssMb: number;
  firstError?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ScatterClientOptions;
const controller = new AbortController();
const deadline = setTimeout(() => controller.abort(), options.deadlineMs);
const pool = new VLLMPool({
  endpoints: options.ports.map((port) => createEndpoint('127.0.0.1', port, {})),
  concurrency: options.concurrency,
  model: 'mock-model',
  maxTokens: 8,
  modelMaxContext: 8192,
  proxyUrl: null,
});

function* prompts(count: number): Generator<string> {
  for (let index = 0; index < count; index++) yield `Prompt number ${index}: what is DNA?`;
}

const cpuStart = process.cpuUsage();
const startedAt = performance.now();
let succeeded = 0;
let firstError: string | undefined;
if (options.mode === 'array') {
  const responses = await scatterGather(pool, Array.from(prompts(options.prompts)), {
    signal: controller.signal,
  });
  for (const response of responses) {
    if (response.success) succeeded++;
    else firstError ??= response.error;
  }
} else {
  for await (const { response } of scatterGatherStream(pool, prompts(options.prompts), {
    signal: controller.signal,
  })) {
    if (response.success) succeeded++;
    else firstError ??= response.error;
  }
}
const elapsedMs = performance.now() - startedAt;
const cpu = process.cpuUsage(cpuStart);
clearTimeout(deadline);
await pool.close();
const cpuMs = (cpu.user + cpu.system) / 1000;
const summary: ScatterClientSummary = {
  mode: options.mode,
  prompts: options.prompts,
  succeeded,
  elapsedMs,
  requestsPerSecond: (options.prompts * 1000) / elapsedMs,
  cpuMs,
  cpuUsPerRequest: (cpuMs * 1000) / options.prompts,
  peakRssMb: process.resourceUsage().maxRSS / 1024,
  ...(firstError === undefined ? {} : { firstError }),
};
process.stdout.write(`SCATTER DONE ${JSON.stringify(summary)}\n`, () => process.exit(0));
