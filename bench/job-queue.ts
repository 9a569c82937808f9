/**
 * The shared job's queue on Redis: what it costs per prompt, and how throughput grows with
 * workers when the agents (not this machine's two cores) are the limit.
 *
 * 1. Overhead (in-process, a handler that answers at once): client round trips per prompt
 *    (node-redis's own diagnostics channel counts every command and every MULTI sent),
 *    bytes on the wire per prompt (redis-server's INFO stats), bytes in Redis per queued
 *    prompt, per result, and per finished prompt after `collect --trim` (MEMORY USAGE of
 *    each key, exact), and the queue's own ceiling: prompts/s of one worker with no agent.
 * 2. Scaling: 1, 2 and 3 `aurora-swarm job work` processes on simulated agents with latency
 *    (a child process), each worker `--concurrency C`; ceiling = workers × C / latency.
 *    Throughput is taken between the first and the last result (stream ids are the server's
 *    milliseconds), so process start-up does not count; wall time is printed too.
 *
 * node dist/bench/job-queue.js [--prompts 3000] [--overhead-prompts 10000] [--latency-ms 200] [--concurrency 32] [--agents 16]
 */
import { spawn } from 'node:child_process';
import { tracingChannel } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RedisJob } from '../src/job/redis-job.js';
import type { AgentResponse } from '../src/pool/types.js';
import { startAgentsProcess } from './lib/agents.js';
import { hasCommand, packageScript, startChild, stopAllChildren } from './lib/child-process.js';
import { freePort } from './lib/free-port.js';
import { log, printTable, scratchDirectory, writeResults } from './lib/results.js';
import { round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    prompts: { type: 'string', default: '3000' },
    'overhead-prompts': { type: 'string', default: '10000' },
    'latency-ms': { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '32' },
    agents: { type: 'string', default: '16' },
  },
});
const PROMPTS = Number(values.prompts);
const OVERHEAD_PROMPTS = Number(values['overhead-prompts']);
const LATENCY_MS = Number(values['latency-ms']);
const CONCURRENCY = Number(values.concurrency);
const AGENTS = Number(values.agents);
/** Prompt and answer sizes of the overhead run: a short question, a paragraph of answer. */
const PROMPT_CHARS = 200;
const ANSWER_CHARS = 1000;

const scratch = scratchDirectory('job-queue');

function writePrompts(path: string, count: number): void {
  const filler = 'x'.repeat(PROMPT_CHARS - 20);
  const lines: string[] = [];
  for (let index = 0; index < count; index++) {
    lines.push(
      JSON.stringify({
        id: `q${index}`,
        prompt: `question ${index} ${filler}`.slice(0, PROMPT_CHARS),
      }),
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

async function startRedisServer() {
  const port = await freePort();
  const child = await startChild(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      scratch,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--logfile',
      '',
    ],
    { name: 'redis-server', readyPattern: /Ready to accept connections/, cpus: '1' },
  );
  return { child, url: `redis://127.0.0.1:${port}` };
}

function infoField(info: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return Number(match?.[1] ?? 0);
}

async function keyBytes(job: RedisJob): Promise<Record<string, number>> {
  const bytes: Record<string, number> = {};
  for (const name of ['meta', 'ids', 'queue', 'done', 'failed', 'results', 'workers']) {
    const key = `aurora-swarm:job:{${job.name}}:${name}`;
    const usage = await job.connection.client.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']);
    bytes[name] = Number(usage ?? 0);
  }
  return bytes;
}

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

/** Client commands (a MULTI counts once), counted from node-redis's diagnostics channel. */
function countCommands() {
  let commands = 0;
  const onStart = () => {
    commands++;
  };
  const handlers = { start: onStart, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
  tracingChannel('node-redis:command').subscribe(handlers);
  tracingChannel('node-redis:batch').subscribe(handlers);
  return {
    take() {
      const taken = commands;
      commands = 0;
      return taken;
    },
    stop() {
      tracingChannel('node-redis:command').unsubscribe(handlers);
      tracingChannel('node-redis:batch').unsubscribe(handlers);
    },
  };
}

async function overhead(url: string) {
  const job = await RedisJob.open({ url, name: 'overhead', env: {} });
  const { client } = job.connection;
  const wire = async () => {
    const info = await client.info('stats');
    return infoField(info, 'total_net_input_bytes') + infoField(info, 'total_net_output_bytes');
  };
  const promptsPath = join(scratch, 'overhead.jsonl');
  writePrompts(promptsPath, OVERHEAD_PROMPTS);
  const counter = countCommands();
  let wireBefore = await wire();
  counter.take();
  await job.submit(promptsPath);
  const submitCommands = counter.take();
  const submitWire = (await wire()) - wireBefore;
  const afterSubmit = await keyBytes(job);

  const answer = 'y'.repeat(ANSWER_CHARS);
  const handler = async (): Promise<AgentResponse> => ({
    success: true,
    text: answer,
    agentIndex: 0,
    globalIndex: 0,
    latencyMs: 1,
  });
  wireBefore = await wire();
  counter.take();
  const startedAt = performance.now();
  const summary = await job.work({ handler, concurrency: 64, leaseSeconds: 60 });
  const workSeconds = (performance.now() - startedAt) / 1000;
  const workCommands = counter.take();
  const workWire = (await wire()) - wireBefore;
  const afterWork = await keyBytes(job);
  await job.collect(join(scratch, 'overhead-results.jsonl'), { trim: true });
  const afterTrim = await keyBytes(job);
  counter.stop();
  await job.delete();
  await job.close();
  const perPrompt = (value: number) => round(value / OVERHEAD_PROMPTS, 2);
  return {
    prompts: OVERHEAD_PROMPTS,
    promptChars: PROMPT_CHARS,
    answerChars: ANSWER_CHARS,
    recorded: summary.recorded,
    roundTripsPerPromptSubmit: perPrompt(submitCommands),
    roundTripsPerPromptWork: perPrompt(workCommands),
    wireBytesPerPromptSubmit: perPrompt(submitWire),
    wireBytesPerPromptWork: perPrompt(workWire),
    redisBytesPerQueuedPrompt: perPrompt(sum(afterSubmit)),
    redisBytesPerResult: perPrompt(sum(afterWork)),
    redisBytesPerPromptAfterTrim: perPrompt(sum(afterTrim)),
    keysAfterSubmit: afterSubmit,
    keysAfterWork: afterWork,
    keysAfterTrim: afterTrim,
    queueCeilingPromptsPerSecond: round(summary.recorded / workSeconds, 0),
  };
}

async function scaling(url: string, agentsHostfile: string, workers: number) {
  const name = `scale-${workers}`;
  const job = await RedisJob.open({ url, name, env: {} });
  const promptsPath = join(scratch, `${name}.jsonl`);
  writePrompts(promptsPath, PROMPTS);
  await job.submit(promptsPath);
  const startedAt = performance.now();
  const children = Array.from({ length: workers }, (_unused, index) =>
    spawn(
      process.execPath,
      [
        packageScript('cli/aurora-swarm.js'),
        'job',
        'work',
        '--redis',
        url,
        '--job',
        name,
        '--hostfile',
        agentsHostfile,
        '--model',
        'meta-llama/Llama-3.1-70B-Instruct',
        '--concurrency',
        String(CONCURRENCY),
        '--lease',
        '30',
        '--name',
        `w${index}`,
        '--progress-interval',
        '3600',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
  const codes = await Promise.all(
    children.map(async (child) => (await once(child, 'exit'))[0] as number),
  );
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const results = job.connection.client;
  const first = await results.xRange(`aurora-swarm:job:{${name}}:results`, '-', '+', { COUNT: 1 });
  const last = await results.xRevRange(`aurora-swarm:job:{${name}}:results`, '+', '-', {
    COUNT: 1,
  });
  const spanMs = Number(last[0]?.id.split('-')[0]) - Number(first[0]?.id.split('-')[0]);
  const status = await job.status();
  await job.delete();
  await job.close();
  const ceiling = (workers * CONCURRENCY * 1000) / LATENCY_MS;
  const throughput = ((PROMPTS - 1) * 1000) / Math.max(spanMs, 1);
  return {
    workers,
    exitCodes: codes,
    done: status.done,
    failed: status.failed,
    promptsPerSecond: round(throughput, 1),
    ceilingPromptsPerSecond: round(ceiling, 1),
    ratioToCeiling: round(throughput / ceiling, 3),
    wallSeconds: round(wallSeconds, 2),
  };
}

async function main(): Promise<void> {
  if (!hasCommand('redis-server')) {
    log('redis-server is not installed (apt-get install -y redis-server): job-queue skipped');
    return;
  }
  const redis = await startRedisServer();
  log(`redis-server at ${redis.url}; overhead with ${OVERHEAD_PROMPTS} prompts`);
  const cost = await overhead(redis.url);
  printTable([
    ['per prompt', 'submit', 'work (lease + record)'],
    ['client round trips', cost.roundTripsPerPromptSubmit, cost.roundTripsPerPromptWork],
    ['bytes on the wire', cost.wireBytesPerPromptSubmit, cost.wireBytesPerPromptWork],
  ]);
  printTable([
    ['bytes in Redis per prompt', 'queued', 'with its result', 'after collect --trim'],
    [
      '',
      cost.redisBytesPerQueuedPrompt,
      cost.redisBytesPerResult,
      cost.redisBytesPerPromptAfterTrim,
    ],
  ]);
  log(`queue ceiling, one worker, no agent: ${cost.queueCeilingPromptsPerSecond} prompts/s`);

  const agents = await startAgentsProcess(AGENTS, { latencyMs: LATENCY_MS }, '1');
  const hostfile = join(scratch, 'hostfile.txt');
  writeFileSync(hostfile, agents.hostfileText);
  const rounds = [];
  for (const workers of [1, 2, 3]) {
    log(
      `${workers} worker(s), ${PROMPTS} prompts, agents ${LATENCY_MS} ms, concurrency ${CONCURRENCY} each`,
    );
    rounds.push(await scaling(redis.url, hostfile, workers));
  }
  printTable([
    ['workers', 'prompts/s', 'ceiling (workers x C / latency)', 'ratio', 'wall s', 'exit codes'],
    ...rounds.map((row) => [
      row.workers,
      row.promptsPerSecond,
      row.ceilingPromptsPerSecond,
      row.ratioToCeiling,
      row.wallSeconds,
      row.exitCodes.join(','),
    ]),
  ]);
  await agents.stop();
  await redis.child.stop();
  const path = writeResults('job-queue', {
    method: {
      overheadPrompts: OVERHEAD_PROMPTS,
      prompts: PROMPTS,
      agents: AGENTS,
      latencyMs: LATENCY_MS,
      concurrencyPerWorker: CONCURRENCY,
      redis: 'redis-server, appendonly yes, appendfsync everysec, pinned to CPU 1 with the agents',
    },
    overhead: cost,
    scaling: rounds,
  });
  log(`results: ${path}`);
}

try {
  await main();
} finally {
  await stopAllChildren();
}
