/**
 * The live suite: pools, patterns and `aurora-swarm run` against a real swarm, and what
 * it found (vLLM version, model, context length, the error shapes it answers with).
 * Started by live/run-live.ts (`npm run test:live -- --hostfile H [--proxy URL]`), which
 * passes its flags as AURORA_LIVE_* variables; without a hostfile or proxy it skips.
 * Requests are small (16 tokens) so a GPU cluster is barely touched.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type AgentEndpoint, createEndpoint } from '../src/hostfile/agent-endpoint.js';
import { parseHostfile } from '../src/hostfile/parse-hostfile.js';
import { scatterGather } from '../src/patterns/scatter-gather.js';
import { treeReduce } from '../src/patterns/tree-reduce.js';
import { EmbeddingPool } from '../src/pool/embedding-pool.js';
import { VLLMPool } from '../src/pool/vllm-pool.js';

const hostfile = process.env.AURORA_LIVE_HOSTFILE;
const proxyUrl = process.env.AURORA_LIVE_PROXY?.replace(/\/+$/, '');
const configuredModel = process.env.AURORA_LIVE_MODEL;
const agentLimit = Number(process.env.AURORA_LIVE_AGENTS ?? 8);
const skip =
  hostfile === undefined && proxyUrl === undefined
    ? 'no swarm given: npm run test:live -- --hostfile H [--proxy URL]'
    : false;
const BIN = fileURLToPath(new URL('../src/cli/aurora-swarm.js', import.meta.url));
const TIMEOUT_MS = 300_000;
const MAX_TOKENS = 16;

/** What the suite found, printed at the end. */
const found: Record<string, string> = {};
let endpoints: AgentEndpoint[] = [];
let model: string | undefined;
let contextLength: number | undefined;

/** GET or POST on agent `index`, through the proxy when one is given. */
async function agentRequest(index: number, path: string, body?: unknown) {
  const endpoint = endpoints[index]!;
  const url =
    proxyUrl === undefined ? `${endpoint.url}${path}` : `${proxyUrl}/agent/${index}${path}`;
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', 'x-timeout': '60' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

/** Which error shape a body has. */
function errorShape(json: unknown): string {
  if (json === null || typeof json !== 'object') return 'not JSON';
  const record = json as Record<string, unknown>;
  if (record.error !== null && typeof record.error === 'object') {
    return `nested {"error": {...}} (vLLM >= 0.10.1)${typeof (record.error as { param?: unknown }).param === 'string' ? `, param "${(record.error as { param: string }).param}"` : ''}`;
  }
  if (record.object === 'error') return 'flat {"object": "error"} (vLLM <= 0.10.0)';
  if (record.detail !== undefined) return 'FastAPI {"detail"}';
  return `other: ${JSON.stringify(json).slice(0, 120)}`;
}

function poolOptions() {
  return {
    endpoints,
    proxyUrl: proxyUrl ?? null,
    timeoutMs: TIMEOUT_MS,
    maxTokens: MAX_TOKENS,
    ...(model === undefined ? {} : { model }),
  };
}

function sample(): number[] {
  return Array.from({ length: Math.min(agentLimit, endpoints.length) }, (_, index) => index);
}

describe('live swarm', { skip, concurrency: false }, () => {
  before(async () => {
    if (hostfile !== undefined) {
      endpoints = parseHostfile(hostfile);
    } else {
      const hosts = (await (await fetch(`${proxyUrl}/hosts`)).json()) as {
        hosts: Array<{ host: string; port: number; tags: Record<string, string> }>;
      };
      endpoints = hosts.hosts.map((host) => createEndpoint(host.host, host.port, host.tags));
    }
    found.agents = `${endpoints.length} (${proxyUrl === undefined ? 'direct' : `through ${proxyUrl}`})`;
  });

  after(() => {
    const width = Math.max(...Object.keys(found).map((key) => key.length));
    const lines = Object.entries(found).map(([key, value]) => `  ${key.padEnd(width)}  ${value}`);
    process.stderr.write(`\nWhat the live suite found:\n${lines.join('\n')}\n`);
  });

  test('discovers the agents: /version, /v1/models (model, context length)', async () => {
    assert.ok(endpoints.length > 0, 'the hostfile lists no agent');
    const versions = new Set<string>();
    const models = new Set<string>();
    for (const index of sample()) {
      const version = await agentRequest(index, '/version');
      versions.add(
        version.status === 200
          ? String((version.json as { version?: unknown })?.version)
          : `no /version (HTTP ${version.status})`,
      );
      const listed = await agentRequest(index, '/v1/models');
      assert.equal(
        listed.status,
        200,
        `agent ${index}: GET /v1/models answered ${listed.status}: ${listed.text.slice(0, 200)}`,
      );
      const card = (listed.json as { data?: Array<{ id?: string; max_model_len?: number }> })
        ?.data?.[0];
      assert.ok(card?.id, `agent ${index}: /v1/models lists no model`);
      models.add(card.id);
      model ??= configuredModel ?? card.id;
      contextLength ??= card.max_model_len;
    }
    found['vLLM version'] = [...versions].join(', ');
    found.models = [...models].join(', ');
    found['context length'] = String(contextLength ?? 'not reported (max_model_len missing)');
  });

  test('VLLMPool: every sampled agent answers, one streams, batch mode maps answers back', async () => {
    await using pool = new VLLMPool(poolOptions());
    const indices = sample();
    const sub = pool.select(indices);
    const answers = await sub.broadcastPrompt('Reply with one word: ready?');
    const failed = answers.filter((answer) => !answer.success);
    assert.deepEqual(
      failed.map((answer) => `agent ${answer.globalIndex}: ${answer.error}`),
      [],
      'agents that did not answer',
    );
    const call = pool.stream(0, 'Count from one to five.');
    let deltas = 0;
    for await (const _delta of call) deltas++;
    const streamed = await call.response;
    assert.equal(streamed.success, true, streamed.error);
    await using batch = new VLLMPool({ ...poolOptions(), batch: true });
    const prompts = indices.flatMap((index) => [`Agent check ${index}a`, `Agent check ${index}b`]);
    const batched = await batch.select(indices).sendAll(prompts);
    assert.equal(batched.filter((answer) => answer.success).length, prompts.length);
    found.generation = `${answers.length} agent(s) answered; a stream of ${deltas} delta(s), usage ${streamed.usage ? 'reported' : 'not reported'}; batch of ${prompts.length} prompts ok`;
  });

  test('patterns: scatterGather in input order, treeReduce to one answer', async () => {
    await using pool = new VLLMPool(poolOptions());
    const sub = pool.select(sample());
    const prompts = ['Name a color.', 'Name a fruit.', 'Name a planet.'];
    const gathered = await scatterGather(sub, prompts);
    assert.deepEqual(
      gathered.map((answer) => answer.success),
      prompts.map(() => true),
      gathered.map((answer) => answer.error ?? '').join('; '),
    );
    const reduced = await treeReduce(
      sub,
      'Give one fact about water.',
      'Combine in one line: {responses}',
      {
        fanin: 2,
      },
    );
    assert.equal(reduced.success, true, reduced.error);
    found.patterns = 'scatterGather and treeReduce ok';
  });

  test('EmbeddingPool: a vector, or the error a generative model gives', async () => {
    await using pool = new EmbeddingPool({ ...poolOptions(), timeoutMs: 60_000 });
    const answer = await pool.embedOne(0, 'embedding probe');
    if (answer.success) {
      assert.ok((answer.embedding?.length ?? 0) > 0);
      found.embeddings = `${answer.embedding?.length} dimensions`;
    } else {
      assert.equal(answer.failureKind, 'agent-error', answer.error);
      found.embeddings = `not served: ${answer.error}`;
    }
  });

  test('aurora-swarm run: one result per prompt, resumable', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'aurora-live-'));
    try {
      const prompts = join(directory, 'prompts.jsonl');
      const out = join(directory, 'results.jsonl');
      writeFileSync(
        prompts,
        ['a', 'b', 'c'].map((id) => JSON.stringify({ id, prompt: `Say ${id}.` })).join('\n'),
      );
      const target =
        proxyUrl === undefined
          ? ['--hostfile', hostfile!, '--no-proxy']
          : hostfile === undefined
            ? ['--proxy', proxyUrl]
            : ['--hostfile', hostfile, '--proxy', proxyUrl];
      const args = [
        BIN,
        'run',
        ...target,
        '--prompts',
        prompts,
        '--out',
        out,
        '--max-tokens',
        String(MAX_TOKENS),
      ];
      if (model !== undefined) args.push('--model', model);
      await promisify(execFile)(process.execPath, args, { timeout: TIMEOUT_MS });
      const results = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string });
      assert.deepEqual(results.map((result) => result.id).sort(), ['a', 'b', 'c']);
      found.run = `${results.length} results written`;
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('error shapes: an unknown model, and a prompt longer than the context', async () => {
    const unknown = await agentRequest(0, '/v1/chat/completions', {
      model: 'aurora-live-no-such-model',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 1,
    });
    found['unknown model'] = `HTTP ${unknown.status}, ${errorShape(unknown.json)}`;
    assert.ok(unknown.status >= 400, 'a server that accepts any model name is not vLLM');
    if (contextLength === undefined) {
      found['too-long prompt'] = 'not tried: no max_model_len';
      return;
    }
    const prompt = 'hello '.repeat(contextLength + 64);
    const raw = await agentRequest(0, '/v1/chat/completions', {
      ...(model === undefined ? {} : { model }),
      messages: [{ role: 'user', content: prompt }],
      max_tokens: 1,
    });
    found['too-long prompt shape'] = `HTTP ${raw.status}, ${errorShape(raw.json)}`;
    await using pool = new VLLMPool(poolOptions());
    const tooLong = await pool.post(0, prompt);
    assert.equal(tooLong.success, false, 'a prompt longer than the context was accepted');
    assert.equal(tooLong.failureKind, 'context-overflow', tooLong.error);
    found['too-long prompt'] = `${tooLong.failureKind}: ${tooLong.error?.slice(0, 160)}`;
  });
});
