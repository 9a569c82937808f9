import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildClientResponseHeaders,
  buildUpstreamRequestHead,
  withoutSessionCookies,
} from '../../../src/proxy/forward/hop-by-hop-headers.js';
import { SESSION_COOKIE_PREFIX } from '../../../src/proxy/guards/proxy-token.js';

describe('buildUpstreamRequestHead', () => {
  test('drops hop-by-hop headers, Host, Expect and X-Timeout; keeps the rest in order and case', () => {
    const head = buildUpstreamRequestHead([
      'Host',
      'proxy:9090',
      'Authorization',
      'Bearer agent-key',
      'Connection',
      'keep-alive, X-Secret-Hop',
      'Keep-Alive',
      'timeout=5',
      'Proxy-Authorization',
      'Bearer proxy-token',
      'Proxy-Connection',
      'keep-alive',
      'TE',
      'trailers',
      'Trailer',
      'X-Checksum',
      'Upgrade',
      'websocket',
      'X-Secret-Hop',
      'must not pass',
      'X-Timeout',
      '12.5',
      'Expect',
      '100-continue',
      'Content-Type',
      'application/json',
      'X-Custom',
      'a',
      'x-custom',
      'b',
    ]);
    assert.deepEqual(head.headers, [
      'Authorization',
      'Bearer agent-key',
      'Content-Type',
      'application/json',
      'X-Custom',
      'a',
      'x-custom',
      'b',
    ]);
    assert.equal(head.timeoutHeader, '12.5');
    assert.equal(head.hasBody, false);
  });

  test('detects a body from Content-Length or Transfer-Encoding (which is not forwarded)', () => {
    assert.equal(buildUpstreamRequestHead(['Content-Length', '0']).hasBody, false);
    const sized = buildUpstreamRequestHead(['Content-Length', '12']);
    assert.equal(sized.hasBody, true);
    assert.deepEqual(sized.headers, ['Content-Length', '12']);
    const chunked = buildUpstreamRequestHead(['Transfer-Encoding', 'chunked']);
    assert.equal(chunked.hasBody, true);
    assert.deepEqual(chunked.headers, []);
  });

  test('a Connection header listed after the headers it names still removes them', () => {
    const head = buildUpstreamRequestHead(['X-A', '1', 'X-B', '2', 'connection', 'x-a']);
    assert.deepEqual(head.headers, ['X-B', '2']);
  });
});

describe('buildClientResponseHeaders', () => {
  test('drops hop-by-hop headers and the ones Connection names; repeats Set-Cookie', () => {
    const headers = buildClientResponseHeaders({
      'content-type': 'application/json',
      connection: 'keep-alive, x-hop',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'proxy-authenticate': 'Basic',
      trailer: 'x-sum',
      upgrade: 'h2c',
      'x-hop': '1',
      'set-cookie': ['a=1', 'b=2'],
      'x-request-id': 'r1',
    });
    assert.deepEqual(headers, [
      'content-type',
      'application/json',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'x-request-id',
      'r1',
    ]);
  });

  test('marks event streams X-Accel-Buffering: no, once', () => {
    assert.deepEqual(
      buildClientResponseHeaders({ 'content-type': 'text/event-stream; charset=utf-8' }),
      ['content-type', 'text/event-stream; charset=utf-8', 'x-accel-buffering', 'no'],
    );
    assert.deepEqual(
      buildClientResponseHeaders({
        'content-type': 'text/event-stream',
        'x-accel-buffering': 'no',
      }),
      ['content-type', 'text/event-stream', 'x-accel-buffering', 'no'],
    );
    assert.deepEqual(buildClientResponseHeaders({ 'content-type': 'application/json' }), [
      'content-type',
      'application/json',
    ]);
  });

  test("drops the agent's CORS headers (vLLM grants * by default): CORS is the proxy's", () => {
    assert.deepEqual(
      buildClientResponseHeaders({
        'access-control-allow-origin': '*',
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': 'x-request-id',
        'content-type': 'application/json',
        accept: 'x',
        'x-access-control-note': 'kept',
      }),
      ['content-type', 'application/json', 'accept', 'x', 'x-access-control-note', 'kept'],
    );
  });
});

describe('the status page session cookie', () => {
  test('withoutSessionCookies keeps every other cookie', () => {
    assert.equal(withoutSessionCookies('a=1; b=2'), 'a=1; b=2');
    assert.equal(withoutSessionCookies(`a=1; ${SESSION_COOKIE_PREFIX}9090=x; b=2`), 'a=1; b=2');
    assert.equal(withoutSessionCookies(`${SESSION_COOKIE_PREFIX}9090=x`), undefined);
    assert.equal(
      withoutSessionCookies(`${SESSION_COOKIE_PREFIX}1=x;${SESSION_COOKIE_PREFIX}2=y`),
      undefined,
    );
  });

  test('forwarded requests lose the session cookies, keep the others', () => {
    const head = buildUpstreamRequestHead([
      'Cookie',
      `${SESSION_COOKIE_PREFIX}9090=secret; theme=dark`,
      'Cookie',
      `${SESSION_COOKIE_PREFIX}9091=secret`,
      'Accept',
      '*/*',
    ]);
    assert.deepEqual(head.headers, ['Cookie', 'theme=dark', 'Accept', '*/*']);
  });
});
