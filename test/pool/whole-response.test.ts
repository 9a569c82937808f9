/**
 * receiveWhole: the pool's read-whole exchange through undici's dispatch() keeps what
 * request() + body.text() did (whole-response.ts), against a real HTTP server on port 0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { Agent } from 'undici';
import { CallSignal } from '../../src/internal/call-signal.js';
import { receiveWhole } from '../../src/pool/whole-response.js';

async function serve(
  t: TestContext,
  handler: (url: string, response: ServerResponse) => void,
  agentOptions: ConstructorParameters<typeof Agent>[0] = {},
) {
  const server = createServer((request, response) => handler(request.url ?? '/', response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const agent = new Agent(agentOptions);
  t.after(async () => {
    await agent.destroy();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { agent, origin };
}

describe('receiveWhole', () => {
  test('status, Retry-After and the body as text, a UTF-8 BOM dropped as body.text() does', async (t) => {
    const { agent, origin } = await serve(t, (_url, response) => {
      response.writeHead(503, { 'retry-after': '7', 'content-type': 'application/json' });
      response.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"é":"🧬"}')]));
    });
    const signal = new CallSignal(60_000, undefined);
    const starts: number[] = [];
    const whole = await receiveWhole(
      agent,
      { origin, path: '/', method: 'GET' },
      signal,
      (status) => starts.push(status),
    );
    signal.dispose();
    assert.deepEqual(whole, { statusCode: 503, retryAfter: '7', bodyText: '{"é":"🧬"}' });
    assert.deepEqual(starts, [503]);
  });

  test('a 103 Early Hints is not the response; a body in many chunks is joined', async (t) => {
    const { agent, origin } = await serve(t, (_url, response) => {
      response.writeEarlyHints({ link: '</style.css>; rel=preload' });
      response.writeHead(200);
      // A multi-byte character cut between two chunks.
      const bytes = Buffer.from('ab🧬cd');
      response.write(bytes.subarray(0, 4));
      setImmediate(() => response.end(bytes.subarray(4)));
    });
    const signal = new CallSignal(60_000, undefined);
    const starts: number[] = [];
    const whole = await receiveWhole(
      agent,
      { origin, path: '/', method: 'GET' },
      signal,
      (status) => starts.push(status),
    );
    signal.dispose();
    assert.equal(whole.statusCode, 200);
    assert.equal(whole.bodyText, 'ab🧬cd');
    assert.deepEqual(starts, [200], 'told once, of the final status');
  });

  test('an abort after the headers cuts the body and rejects with the reason', async (t) => {
    const { agent, origin } = await serve(t, (_url, response) => {
      response.writeHead(200);
      response.write('{"partial":');
    });
    const signal = new CallSignal(60_000, undefined);
    let started = false;
    const pending = receiveWhole(agent, { origin, path: '/', method: 'GET' }, signal, () => {
      started = true;
      signal.abort(new Error('stop reading'));
    });
    await assert.rejects(pending, /stop reading/);
    assert.ok(started);
  });

  test('an abort while the request waits for a connection takes effect when it gets one', async (t) => {
    let release: (() => void) | undefined;
    const { agent, origin } = await serve(
      t,
      (url, response) => {
        if (url === '/first') release = () => response.end('first');
        else response.end('second');
      },
      { connections: 1 },
    );
    const firstSignal = new CallSignal(60_000, undefined);
    const first = receiveWhole(
      agent,
      { origin, path: '/first', method: 'GET' },
      firstSignal,
      () => {},
    );
    const caller = new AbortController();
    const secondSignal = new CallSignal(60_000, caller.signal);
    const second = receiveWhole(
      agent,
      { origin, path: '/second', method: 'GET' },
      secondSignal,
      () => assert.fail('the aborted request is never answered'),
    );
    while (release === undefined) await new Promise((resolve) => setImmediate(resolve));
    caller.abort(new Error('caller left'));
    release();
    assert.equal((await first).bodyText, 'first');
    await assert.rejects(second, /caller left/);
    assert.ok(secondSignal.callerAborted);
    firstSignal.dispose();
  });

  test('a connection refused is undici’s own error, with its code', async (t) => {
    const { agent } = await serve(t, () => undefined);
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const signal = new CallSignal(60_000, undefined);
    await assert.rejects(
      receiveWhole(
        agent,
        { origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET' },
        signal,
        () => {},
      ),
      (error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED',
    );
    signal.dispose();
  });
});
