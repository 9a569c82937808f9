import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { send, startTestProxy } from '../proxy/proxy-test-helpers.js';
import { startRawUpstream } from './fault-helpers.js';

test('invalid status line from an agent: 502 "invalid response", not "cannot connect"', async (t) => {
  const upstream = await startRawUpstream(t, (socket) =>
    socket.end('HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\nok'),
  );
  const proxy = await startTestProxy(t, [createEndpoint('127.0.0.1', upstream.port)]);
  const response = await send(proxy.url, '/agent/0/v1/models');
  assert.equal(response.status, 502);
  assert.deepEqual(JSON.parse(response.text), {
    error: `invalid response from 127.0.0.1:${upstream.port}`,
  });
  assert.equal(upstream.events.requests, 1);
});
