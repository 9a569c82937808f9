/**
 * Soak benchmark: thousands of requests and streams through the real proxy process for
 * minutes while agents are killed and restarted. Counts every request's outcome;
 * "lost" (must be 0) is a request that was neither answered nor failed cleanly.
 *
 *   npm run build && node dist/bench/soak.js            # 180 s
 *   SOAK_SECONDS=30 SOAK_CONCURRENCY=32 node dist/bench/soak.js
 *
 * Writes bench/results/soak.json. Method and results: bench/SOAK.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { startMockSwarm } from '../src/mock/mock-swarm.js';

const here = dirname(fileURLToPath(import.meta.url));
const PROXY_BIN = join(here, '..', 'src', 'cli', 'aurora-swarm-proxy.js');
const RESULTS = join(here, '..', '..', 'bench', 'results', 'soak.json');

function numberFromEnv(name: string, fallback: number, maximum: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0 || value > maximum) {
    throw new Error(
      `${name} must be a positive number at most ${maximum}, got ${process.env[name]}`,
    );
  }
  return value;
}

const DURATION_SECONDS = numberFromEnv('SOAK_SECONDS', 180, 3600);
const CONCURRENCY = numberFromEnv('SOAK_CONCURRENCY', 64, 4096);
const AGENT_COUNT = numberFromEnv('SOAK_AGENTS', 8, 256);
const KILL_EVERY_MS = numberFromEnv('SOAK_KILL_EVERY_MS', 2000, 600_000);
const DOWN_FOR_MS = numberFromEnv('SOAK_DOWN_FOR_MS', 1000, 600_000);
const PROXY_TIMEOUT_SECONDS = 10;
// A request with no outcome this long after it was sent is lost (the proxy's own
// timeout is 10 s; a silent gap in a stream is also bounded by it).
const CLIENT_GIVE_UP_MS = (PROXY_TIMEOUT_SECONDS + 30) * 1000;

type Outcome =
  | 'ok'
  | 'proxy-error-json'
  | 'agent-error-json'
  | 'cut-mid-body'
  | 'lost-no-answer'
  | 'lost-non-json-error'
  | 'lost-silent-truncation'
  | 'lost-reset-before-answer';

const outcomes = new Map<string, number>();
const statuses = new Map<number, number>();
const lostExamples: string[] = [];
function count(kind: 'chat' | 'stream' | 'models', outcome: Outcome, detail = ''): void {
  const key = `${kind} ${outcome}`;
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  if (outcome.startsWith('lost') && lostExamples.length < 20) {
    lostExamples.push(`${key} ${detail}`.slice(0, 300));
  }
}

const CHAT = JSON.stringify({
  model: 'mock-model',
  messages: [{ role: 'user', content: 'soak' }],
  max_tokens: 32,
});
const STREAM = JSON.stringify({
  model: 'mock-model',
  messages: [{ role: 'user', content: 'soak' }],
  max_tokens: 32,
  stream: true,
});

function isJsonError(text: string): 'proxy' | 'agent' | undefined {
  try {
    const body = JSON.parse(text) as { error?: unknown; object?: unknown };
    if (typeof body.error === 'string') return 'proxy';
    if (body.object === 'error') return 'agent';
  } catch {
    return undefined;
  }
  return undefined;
}

async function oneRequest(dispatcher: Agent, proxyUrl: string): Promise<void> {
  const agentIndex = Math.floor(Math.random() * AGENT_COUNT);
  const roll = Math.random();
  const kind = roll < 0.55 ? 'chat' : roll < 0.9 ? 'stream' : 'models';
  const signal = AbortSignal.timeout(CLIENT_GIVE_UP_MS);
  let statusCode: number;
  let body: Awaited<ReturnType<typeof request>>['body'];
  try {
    const response = await request(
      `${proxyUrl}/agent/${agentIndex}${kind === 'models' ? '/v1/models' : '/v1/chat/completions'}`,
      {
        dispatcher,
        method: kind === 'models' ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        body: kind === 'models' ? undefined : kind === 'chat' ? CHAT : STREAM,
        signal,
      },
    );
    statusCode = response.statusCode;
    body = response.body;
  } catch (error) {
    if (signal.aborted) count(kind, 'lost-no-answer', 'no response head');
    else count(kind, 'lost-reset-before-answer', String((error as Error).message));
    return;
  }
  statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
  let text: string;
  try {
    text = await body.text();
  } catch (error) {
    if (signal.aborted) count(kind, 'lost-no-answer', 'body never ended');
    // The agent was killed mid-answer: the proxy cut the body (no clean end).
    else count(kind, 'cut-mid-body', String((error as Error).message));
    return;
  }
  if (statusCode !== 200) {
    const source = isJsonError(text);
    if (source === 'proxy') count(kind, 'proxy-error-json');
    else if (source === 'agent') count(kind, 'agent-error-json');
    else count(kind, 'lost-non-json-error', `${statusCode} ${text}`);
    return;
  }
  // A 200 that ended cleanly must be complete: no silent truncation.
  if (kind === 'stream') {
    if (text.trimEnd().endsWith('data: [DONE]')) count(kind, 'ok');
    else count(kind, 'lost-silent-truncation', text.slice(-120));
    return;
  }
  try {
    JSON.parse(text);
    count(kind, 'ok');
  } catch {
    count(kind, 'lost-silent-truncation', text.slice(-120));
  }
}

function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

function descriptorCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
}

async function main(): Promise<void> {
  const swarm = await startMockSwarm({
    count: AGENT_COUNT,
    behavior: { model: 'mock-model', completionTokens: 24, tokenIntervalMs: 2, latencyMs: 5 },
    recordLimit: 0,
  });
  const directory = mkdtempSync(join(tmpdir(), 'aurora-soak-'));
  const hostfile = join(directory, 'hostfile.txt');
  await swarm.writeHostfile(hostfile);
  const proxy = spawn(
    process.execPath,
    [
      PROXY_BIN,
      '-f',
      hostfile,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--timeout',
      String(PROXY_TIMEOUT_SECONDS),
      '--log-level',
      'INFO',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Keep only the tail of the log (every 502 is a WARNING line) and count warnings.
  let stderrTail = '';
  let warningLines = 0;
  proxy.stderr.setEncoding('utf8');
  const started = new Promise<number>((resolve, reject) => {
    proxy.once('exit', () => reject(new Error(`the proxy exited:\n${stderrTail}`)));
    proxy.stderr.on('data', (text: string) => {
      stderrTail = (stderrTail + text).slice(-4000);
      warningLines += text.split('[WARNING]').length - 1;
      const port = /listening on \S+:(\d+) with/.exec(stderrTail)?.[1];
      if (port !== undefined) resolve(Number(port));
    });
  });
  const pid = proxy.pid as number;
  const proxyUrl = `http://127.0.0.1:${await started}`;
  const dispatcher = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 4000 });

  const rssSamples: Array<{ atSeconds: number; rssBytes: number }> = [];
  const startedAt = performance.now();
  const deadline = startedAt + DURATION_SECONDS * 1000;
  const descriptorsAtStart = descriptorCount(pid);
  let kills = 0;
  let running = true;

  const sampler = (async () => {
    while (running) {
      rssSamples.push({
        atSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
        rssBytes: residentBytes(pid),
      });
      await delay(1000);
    }
  })();
  const killer = (async () => {
    while (running) {
      await delay(KILL_EVERY_MS);
      if (!running) break;
      const agent = swarm.agents[Math.floor(Math.random() * AGENT_COUNT)]!;
      await agent.stop();
      kills++;
      await delay(DOWN_FOR_MS);
      await agent.start();
    }
  })();
  let sent = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      sent++;
      await oneRequest(dispatcher, proxyUrl);
    }
  });
  await Promise.all(workers);
  running = false;
  await Promise.all([sampler, killer]);
  for (const agent of swarm.agents) await agent.start();
  await dispatcher.close();
  const elapsedSeconds = (performance.now() - startedAt) / 1000;

  const firstMinute = rssSamples.filter((sample) => sample.atSeconds >= 5 && sample.atSeconds < 65);
  const lastMinute = rssSamples.filter((sample) => sample.atSeconds >= elapsedSeconds - 60);
  const total = [...outcomes.values()].reduce((sum, value) => sum + value, 0);
  const lost = [...outcomes.entries()]
    .filter(([key]) => key.includes(' lost-'))
    .reduce((sum, [, value]) => sum + value, 0);
  const errors = [...outcomes.entries()]
    .filter(([key]) => !key.endsWith(' ok'))
    .reduce((sum, [, value]) => sum + value, 0);
  // Let idle keep-alive connections to agents go (restart every agent), then count again.
  for (const agent of swarm.agents) {
    await agent.stop();
    await agent.start();
  }
  await delay(500);
  const descriptorsAtEnd = descriptorCount(pid);
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    settings: {
      durationSeconds: DURATION_SECONDS,
      concurrency: CONCURRENCY,
      agents: AGENT_COUNT,
      killEveryMs: KILL_EVERY_MS,
      downForMs: DOWN_FOR_MS,
      proxyTimeoutSeconds: PROXY_TIMEOUT_SECONDS,
      mix: { chat: 0.55, stream: 0.35, models: 0.1 },
    },
    elapsedSeconds: Math.round(elapsedSeconds * 10) / 10,
    requests: total,
    sentCheck: sent,
    requestsPerSecond: Math.round(total / elapsedSeconds),
    agentKills: kills,
    lost,
    errorRate: Math.round((errors / Math.max(1, total)) * 10_000) / 10_000,
    outcomes: Object.fromEntries([...outcomes.entries()].sort()),
    statuses: Object.fromEntries([...statuses.entries()].sort((a, b) => a[0] - b[0])),
    lostExamples,
    proxy: {
      rssFirstMinuteMeanMiB:
        Math.round((mean(firstMinute.map((s) => s.rssBytes)) / 2 ** 20) * 10) / 10,
      rssLastMinuteMeanMiB:
        Math.round((mean(lastMinute.map((s) => s.rssBytes)) / 2 ** 20) * 10) / 10,
      rssPeakMiB: Math.round((Math.max(...rssSamples.map((s) => s.rssBytes)) / 2 ** 20) * 10) / 10,
      descriptorsAtStart,
      descriptorsAtEnd,
      alive: proxy.exitCode === null,
      warningLines,
      stderrTail: stderrTail.split('\n').slice(-4).join('\n'),
    },
    rssSamples,
  };
  proxy.kill('SIGTERM');
  await new Promise((resolve) => proxy.once('exit', resolve));
  await swarm.close();
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  const { rssSamples: _samples, ...summary } = result;
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (lost > 0) process.exitCode = 1;
}

await main();
