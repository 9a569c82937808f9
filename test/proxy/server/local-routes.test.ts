import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { ProxyLogger } from '../../../src/proxy/proxy-logger.js';
import { type JsonRouteKind, LocalRoutes } from '../../../src/proxy/server/local-routes.js';
import { send } from '../proxy-test-helpers.js';

async function serve(t: TestContext, routes: LocalRoutes): Promise<string> {
  const server = createServer((request, response) => {
    const kind = (request.url ?? '/').slice(1).split('?')[0] as JsonRouteKind;
    routes.answer(kind, request, response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function routes(render: () => Promise<string>, log: string[] = []): LocalRoutes {
  let statusCalls = 0;
  return new LocalRoutes({
    status: (target) =>
      target.includes('view=bad')
        ? { statusCode: 400, message: 'unknown view' }
        : { statusCode: 200, body: { agents: 1, calls: ++statusCalls, target } },
    hosts: () => ({ hosts: [{ host: 'a', port: 1, tags: {} }] }),
    metrics: { render, contentType: 'text/plain; version=0.0.4; charset=utf-8' },
    logger: new ProxyLogger('DEBUG', (line) => log.push(line)),
  });
}

describe('LocalRoutes', () => {
  test('GET answers each route from its source, read at the time of the request', async (t) => {
    const url = await serve(
      t,
      routes(async () => '# metrics\n'),
    );
    const health = await send(url, '/health');
    assert.equal(health.status, 200);
    assert.equal(health.headers['content-type'], 'application/json');
    assert.equal(health.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(health.text), { status: 'ok' });
    assert.deepEqual(JSON.parse((await send(url, '/status')).text), {
      agents: 1,
      calls: 1,
      target: '/status',
    });
    assert.deepEqual(JSON.parse((await send(url, '/status?view=compact')).text), {
      agents: 1,
      calls: 2,
      target: '/status?view=compact',
    });
    const bad = await send(url, '/status?view=bad');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(bad.text), { error: 'unknown view' });
    assert.deepEqual(JSON.parse((await send(url, '/hosts')).text), {
      hosts: [{ host: 'a', port: 1, tags: {} }],
    });
    const metrics = await send(url, '/metrics');
    assert.equal(metrics.status, 200);
    assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(metrics.text, '# metrics\n');
  });

  test('HEAD has no body; other methods get 405 with Allow, naming the path', async (t) => {
    const url = await serve(
      t,
      routes(async () => ''),
    );
    const head = await send(url, '/status', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const kind of ['health', 'status', 'hosts', 'metrics']) {
      const post = await send(url, `/${kind}`, { method: 'POST' });
      assert.equal(post.status, 405, kind);
      assert.equal(post.headers.allow, 'GET, HEAD');
      assert.deepEqual(JSON.parse(post.text), {
        error: `method POST not allowed on /${kind} (use GET)`,
      });
    }
  });

  test('metrics that cannot be rendered: 500 and an error log line', async (t) => {
    const log: string[] = [];
    const url = await serve(
      t,
      routes(() => Promise.reject(new Error('registry broke')), log),
    );
    const metrics = await send(url, '/metrics');
    assert.equal(metrics.status, 500);
    assert.deepEqual(JSON.parse(metrics.text), { error: 'cannot render the metrics' });
    assert.ok(
      log.some((line) => /\[ERROR\].*cannot render \/metrics: Error: registry broke/.test(line)),
    );
  });
});
