/**
 * The proxy's lifecycle in-process: a graceful close lets requests in flight finish,
 * the grace period (or a later close(0)) cuts what is left, destroy() cuts at once,
 * and `await using` closes the proxy at the end of the scope.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, type TestContext, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { startProxy } from '../../src/proxy/proxy-server.js';
import {
  type ChunkReader,
  open,
  readChunks,
  responseFailure,
  send,
  startTestProxy,
  startUpstream,
  type TestProxy,
  type TestUpstream,
} from './proxy-test-helpers.js';

const LONG_GRACE_SECONDS = 600;

/**
 * A proxy with a long grace period and one request in flight through it: the
 * upstream sent its headers and a first chunk, which the client has read, and holds
 * the rest until the test ends `held[0]`.
 */
async function proxyWithRequestInFlight(t: TestContext): Promise<{
  proxy: TestProxy;
  upstream: TestUpstream;
  held: ServerResponse[];
  answer: IncomingMessage;
  reader: ChunkReader;
}> {
  const held: ServerResponse[] = [];
  const upstream = await startUpstream(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('first ');
    held.push(response);
  });
  const proxy = await startTestProxy(t, [upstream.endpoint], {
    shutdownGraceSeconds: LONG_GRACE_SECONDS,
  });
  const answer = await open(proxy.url, '/agent/0/slow').response;
  const reader = readChunks(answer);
  assert.equal((await reader.next()).toString(), 'first ');
  return { proxy, upstream, held, answer, reader };
}

function refused(url: string): Promise<void> {
  return assert.rejects(send(url, '/health'), /ECONNREFUSED/);
}

describe('ProxyServer lifecycle', () => {
  test('close() lets a request in flight finish, refuses new connections, then shuts down', async (t) => {
    const { proxy, held, reader } = await proxyWithRequestInFlight(t);
    const closing = proxy.close();
    assert.equal(proxy.close(), closing, 'idempotent: the same promise');
    await refused(proxy.url);
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await nextTurn();
    assert.equal(closed, false, 'waits for the request in flight');
    held[0]?.end('last');
    assert.equal((await reader.rest()).toString(), 'last');
    await closing;
    assert.ok(proxy.logLines.at(-1)?.includes('Proxy shut down'));
    assert.ok(!proxy.logLines.some((line) => line.includes('cutting')));
  });

  test('after the grace period what is still running is cut, with a warning', async (t) => {
    const { proxy, upstream, answer } = await proxyWithRequestInFlight(t);
    const cut = responseFailure(answer);
    const aborted = once(upstream.events, 'aborted');
    await proxy.close(1);
    await cut;
    await aborted;
    assert.ok(
      proxy.logLines.some((line) =>
        /\[WARNING\].*cutting 1 request\(s\) still running after the grace period/.test(line),
      ),
    );
    assert.ok(proxy.logLines.at(-1)?.includes('Proxy shut down'));
  });

  test('close(0) during a graceful close cuts the grace period short', async (t) => {
    const { proxy, answer } = await proxyWithRequestInFlight(t);
    const cut = responseFailure(answer);
    const graceful = proxy.close();
    assert.equal(proxy.close(0), graceful);
    await graceful;
    await cut;
    assert.ok(proxy.logLines.some((line) => line.includes('cutting 1 request(s)')));
  });

  test('destroy() cuts at once whatever the grace period, and is idempotent', async (t) => {
    const { proxy, answer } = await proxyWithRequestInFlight(t);
    const cut = responseFailure(answer);
    const destroyed = proxy.destroy();
    assert.equal(proxy.destroy(), destroyed);
    assert.equal(proxy.close(), destroyed, 'close() after destroy() waits for the same shutdown');
    await destroyed;
    await cut;
    await refused(proxy.url);
    assert.equal(proxy.logLines.filter((line) => line.includes('Proxy shut down')).length, 1);
  });

  test('await using closes the proxy at the end of the scope', async () => {
    const lines: string[] = [];
    let url: string;
    {
      await using proxy = await startProxy({
        endpoints: [createEndpoint('127.0.0.1', 9)],
        host: '127.0.0.1',
        port: 0,
        healthIntervalSeconds: 0,
        logSink: (line) => lines.push(line),
      });
      url = proxy.url;
      assert.equal((await send(url, '/health')).status, 200);
    }
    await refused(url);
    assert.ok(lines.at(-1)?.includes('Proxy shut down'));
  });
});
