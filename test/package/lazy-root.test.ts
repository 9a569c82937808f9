/**
 * The package root loads what a scatter needs and defers the rest (internal/lazy-require.ts,
 * internal/undici-agent.ts, proxy-entry.ts), without changing what it exposes: every value
 * src/index.ts exports is there and defined, the proxy's constants are the proxy's own, and
 * the deferred entry points still work when first called.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as root from '../../src/index.js';
import { Agent } from '../../src/internal/undici-agent.js';
import {
  AGENT_INDEX_HEADER,
  MAX_POOLED_ATTEMPTS,
} from '../../src/proxy/forward/forward-request.js';
import { MAX_REPLAYABLE_BODY_BYTES } from '../../src/proxy/forward/pooled-request.js';
import { METRICS_PREFIX } from '../../src/proxy/proxy-metrics.js';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
const rootModule = join(repository, 'dist/src/index.js');

/** The names src/index.ts exports as values (not `type` ones). */
function valueExportsOfIndex(): string[] {
  const text = readFileSync(join(repository, 'src/index.ts'), 'utf8');
  const names: string[] = [];
  for (const block of text.matchAll(/^export (type )?\{([^}]*)\} from/gm)) {
    if (block[1] !== undefined) continue;
    for (const item of (block[2] as string).split(',')) {
      const name = item.trim();
      if (name !== '' && !name.startsWith('type ')) names.push(name);
    }
  }
  return names.sort();
}

test('the root exposes every value src/index.ts names, each defined', () => {
  const expected = valueExportsOfIndex();
  assert.ok(expected.length > 150, `parsed only ${expected.length} exports`);
  assert.deepEqual(Object.keys(root).sort(), expected);
  for (const name of expected) {
    assert.notEqual((root as Record<string, unknown>)[name], undefined, name);
  }
});

test("the root's proxy constants are the proxy's own", () => {
  assert.equal(root.MAX_POOLED_ATTEMPTS, MAX_POOLED_ATTEMPTS);
  assert.equal(root.AGENT_INDEX_HEADER, AGENT_INDEX_HEADER);
  assert.equal(root.MAX_REPLAYABLE_BODY_BYTES, MAX_REPLAYABLE_BODY_BYTES);
  assert.equal(root.METRICS_PREFIX, METRICS_PREFIX);
});

test('importing the root loads no proxy, Redis, matrix, npz or metrics library, nor undici whole', () => {
  const script = `
    import { createRequire } from 'node:module';
    const root = await import(${JSON.stringify(rootModule)});
    const require = createRequire(${JSON.stringify(rootModule)});
    const loaded = Object.keys(require.cache).filter((path) => path.includes('node_modules'));
    const pool = new root.VLLMPool({ endpoints: [root.createEndpoint('127.0.0.1', 9, {})], model: 'm', modelMaxContext: 8192, proxyUrl: null });
    const { Agent } = await import(${JSON.stringify(join(repository, 'dist/src/internal/undici-agent.js'))});
    const requestApi = typeof new Agent().request;
    await pool.close();
    console.log(JSON.stringify([requestApi, ...loaded.map((path) => path.split('node_modules/')[1])]));
  `;
  const loaded = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
  ) as string[];
  assert.equal(loaded.shift(), 'function', "undici's request API on the pool's dispatcher");
  for (const library of ['prom-client/', '@redis/client/', 'ml-matrix/', 'fflate/', 'npyjs/']) {
    assert.equal(
      loaded.filter((path) => path.startsWith(library)).length,
      0,
      `${library} loaded by the root`,
    );
  }
  assert.ok(!loaded.includes('undici/index.js'), 'undici/index.js loaded by the root');
  assert.ok(loaded.includes('undici/lib/dispatcher/agent.js'), 'the pool has its Agent');
});

test("the pool's undici Agent is undici's own, with its request API", async (t) => {
  const undici = createRequire(import.meta.url)('undici') as typeof import('undici');
  assert.equal(Agent, undici.Agent);
  const swarm = await root.startMockSwarm({ count: 1 });
  t.after(() => swarm.close());
  const agent = new Agent();
  t.after(() => agent.close());
  const origin = new URL(swarm.agents[0]?.url as string).origin;
  const answer = await agent.request({ origin, path: '/v1/models', method: 'GET' });
  assert.equal(answer.statusCode, 200);
  assert.equal(typeof ((await answer.body.json()) as { data?: unknown }).data, 'object');
});

test('startProxy from the root loads the proxy on first call and starts it', async (t) => {
  const swarm = await root.startMockSwarm({ count: 1 });
  t.after(() => swarm.close());
  const directory = mkdtempSync(join(tmpdir(), 'aurora-swarm-lazy-root-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const hostfile = join(directory, 'hostfile.txt');
  writeFileSync(hostfile, swarm.hostfileText);
  const proxy = await root.startProxy({ hostfile, host: '127.0.0.1', port: 0, logSink: () => {} });
  t.after(() => proxy.close());
  const response = await fetch(`${proxy.url}/v1/models`);
  assert.equal(response.status, 200);
  await response.arrayBuffer();
  await assert.rejects(root.startProxy({ hostfile: join(directory, 'missing.txt'), port: 0 }));
});
