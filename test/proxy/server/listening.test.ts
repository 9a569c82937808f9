import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { ProxyStartError } from '../../../src/errors.js';
import { PROXY_TOKEN_ENV_VAR } from '../../../src/proxy/proxy-options.js';
import {
  connectHost,
  isLoopback,
  listen,
  listenError,
  openPortWarning,
  parseProxyStartedLine,
  proxyStartedMessage,
} from '../../../src/proxy/server/listening.js';

function errno(code: string, message = code): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('listening', () => {
  test('loopback hosts, and the host a URL uses to reach a bound address', () => {
    for (const host of [
      'localhost',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(isLoopback(host), true, host);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'login-node', '::ffff:10.0.0.1']) {
      assert.equal(isLoopback(host), false, host);
    }
    assert.equal(connectHost('0.0.0.0'), '127.0.0.1');
    assert.equal(connectHost('::'), '[::1]');
    assert.equal(connectHost('[::]'), '[::1]');
    assert.equal(connectHost('fe80::1'), '[fe80::1]');
    assert.equal(connectHost('[::1]'), '[::1]');
    assert.equal(connectHost('login-node'), 'login-node');
  });

  test('listen errors are one line with the fix, as ProxyStartError with the cause', () => {
    const cases: Array<[string, RegExp]> = [
      ['EADDRINUSE', /^Address already in use: cannot listen on h:9090; .*--port$/],
      ['EACCES', /^Permission denied: cannot listen on h:9090; choose a port above 1023/],
      ['EADDRNOTAVAIL', /^Cannot assign requested address: h is not an address of this machine/],
      ['ENOTFOUND', /^cannot resolve --host "h"$/],
      ['EAI_AGAIN', /^cannot resolve --host "h"$/],
      ['EOTHER', /^cannot listen on h:9090: boom$/],
    ];
    for (const [code, pattern] of cases) {
      const cause = errno(code, 'boom');
      const error = listenError(cause, 'h', 9090);
      assert.ok(error instanceof ProxyStartError);
      assert.equal(error.code, 'ERR_PROXY_START');
      assert.equal(error.cause, cause);
      assert.match(error.message, pattern, code);
    }
  });

  test('listen resolves with the real port, and rejects a port in use', async (t) => {
    const first = createServer();
    t.after(() => first.close());
    const port = await listen(first, '127.0.0.1', 0);
    assert.equal(port, (first.address() as AddressInfo).port);
    assert.ok(port > 0);

    const second = createServer();
    await assert.rejects(listen(second, '127.0.0.1', port), (error: unknown) => {
      assert.ok(error instanceof ProxyStartError);
      assert.match(error.message, new RegExp(`^Address already in use: .*port ${port}`));
      return true;
    });
    assert.equal(second.listening, false);
    // The failed server has no listener left behind: it can still listen elsewhere.
    second.listen(0, '127.0.0.1');
    await once(second, 'listening');
    second.close();
  });

  test('the open-port warning: only beyond loopback and without a token', () => {
    const warning = openPortWarning('0.0.0.0', 9090, 4, false) ?? '';
    assert.match(
      warning,
      /^No proxy token set and listening on 0\.0\.0\.0: anyone who can reach port 9090 can use every agent \(4\)/,
    );
    assert.ok(warning.includes(PROXY_TOKEN_ENV_VAR));
    assert.ok(warning.includes('--host 127.0.0.1'));
    assert.ok(warning.includes('--unix'));
    assert.equal(openPortWarning('0.0.0.0', 9090, 4, true), undefined);
    assert.equal(openPortWarning('127.0.0.1', 9090, 4, false), undefined);
    assert.equal(openPortWarning('::1', 9090, 4, false), undefined);
  });

  test('the Proxy started line is read back by the one parser', () => {
    const tcp = { socketPath: undefined, workers: undefined };
    const single = proxyStartedMessage({ ...tcp, host: '0.0.0.0', port: 9090, agents: 4 });
    // Exactly as the usage guide shows it (and the Python original logs it).
    assert.equal(single, 'Proxy started — listening on 0.0.0.0:9090 with 4 agent(s)');
    assert.deepEqual(parseProxyStartedLine(single), {
      host: '0.0.0.0',
      port: 9090,
      socketPath: undefined,
      agents: 4,
      workers: undefined,
    });
    const cluster = proxyStartedMessage({
      ...tcp,
      host: '::',
      port: 43210,
      agents: 8000,
      workers: 4,
    });
    assert.equal(
      cluster,
      'Proxy started — listening on :::43210 with 8000 agent(s) (4 worker processes)',
    );
    const logged = `2025-01-15 10:00:00 [INFO] aurora_swarm.proxy: ${cluster}\n`;
    assert.deepEqual(parseProxyStartedLine(logged), {
      host: '::',
      port: 43210,
      socketPath: undefined,
      agents: 8000,
      workers: 4,
    });
    for (const other of ['Proxy shut down', 'Proxy started', `${single} and more`, '']) {
      assert.equal(parseProxyStartedLine(other), undefined, other);
    }
  });

  test('a Unix socket is named unix:PATH, after the TCP address when both listen', () => {
    const path = '/home/me/my socks/with 2 agent(s).sock';
    const both = proxyStartedMessage({
      host: '127.0.0.1',
      port: 9090,
      socketPath: path,
      agents: 4,
      workers: undefined,
    });
    assert.equal(
      both,
      `Proxy started — listening on 127.0.0.1:9090 and unix:${path} with 4 agent(s)`,
    );
    assert.deepEqual(parseProxyStartedLine(both), {
      host: '127.0.0.1',
      port: 9090,
      socketPath: path,
      agents: 4,
      workers: undefined,
    });
    const only = proxyStartedMessage({
      host: undefined,
      port: undefined,
      socketPath: path,
      agents: 2,
      workers: 3,
    });
    assert.equal(
      only,
      `Proxy started — listening on unix:${path} with 2 agent(s) (3 worker processes)`,
    );
    assert.deepEqual(parseProxyStartedLine(only), {
      host: undefined,
      port: undefined,
      socketPath: path,
      agents: 2,
      workers: 3,
    });
  });
});
