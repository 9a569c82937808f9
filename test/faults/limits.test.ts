import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import {
  DEFAULT_MAX_BODY_SIZE_BYTES,
  parseSizeBytes,
  resolveProxyLimits,
} from '../../src/proxy/guards/proxy-limits.js';
import {
  openChat,
  proxyUrlOf,
  readChunks,
  send,
  spawnProxy,
  startTestProxy,
  startUpstream,
  writeHostfile,
} from '../proxy/proxy-test-helpers.js';
import { rawExchange } from './fault-helpers.js';

const SAFETY = { timeout: 20_000 };

describe('limit options', () => {
  test('defaults are generous; sizes take binary units; bad values name the flag', () => {
    assert.deepEqual(resolveProxyLimits(), {
      maxConnections: 4096,
      maxHeaderSizeBytes: 65536,
      maxBodySizeBytes: 64 * 1024 * 1024,
      headersTimeoutMs: 30_000,
      bodyIdleTimeoutMs: 60_000,
    });
    assert.ok(DEFAULT_MAX_BODY_SIZE_BYTES > 5 * 1024 * 1024, 'a 5 MiB prompt fits');
    assert.equal(parseSizeBytes('64m'), 64 * 1024 * 1024);
    assert.equal(parseSizeBytes('1GiB'), 1024 ** 3);
    assert.equal(parseSizeBytes(' 512 kb '), 512 * 1024);
    assert.equal(parseSizeBytes('100'), 100);
    for (const bad of ['', '1.5m', '-1', '1t', 'abc', '0x10']) {
      assert.equal(parseSizeBytes(bad), undefined, bad);
    }
    const limits = resolveProxyLimits({
      maxConnections: '10',
      maxHeaderSizeBytes: '16k',
      maxBodySizeBytes: 0,
      headersTimeoutSeconds: '0.5',
      bodyIdleTimeoutSeconds: 2,
    });
    assert.deepEqual(limits, {
      maxConnections: 10,
      maxHeaderSizeBytes: 16384,
      maxBodySizeBytes: 0,
      headersTimeoutMs: 500,
      bodyIdleTimeoutMs: 2000,
    });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ maxConnections: 0 }, /invalid value 0 for --max-connections: expected an integer/],
      [{ maxConnections: '1.5' }, /--max-connections/],
      [
        { maxHeaderSizeBytes: '100' },
        /invalid value "100" for --max-header-size: expected a number of bytes from 1024/,
      ],
      [{ maxBodySizeBytes: 'lots' }, /invalid value "lots" for --max-body-size/],
      [
        { headersTimeoutSeconds: '0' },
        /invalid value "0" for --headers-timeout: expected a positive number of seconds/,
      ],
      [{ bodyIdleTimeoutSeconds: Number.NaN }, /--body-timeout/],
    ];
    for (const [options, pattern] of cases) {
      assert.throws(
        () => resolveProxyLimits(options),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
  });
});

describe('limits at work', () => {
  test(
    '--body-timeout counts the client only: an agent slow to read a large declared body does not trip it',
    SAFETY,
    async (t) => {
      const size = 16 * 1024 * 1024; // more than the socket buffers hold: undici must wait
      let received = 0;
      const upstream = await startUpstream(t, (request, response) => {
        // Read nothing until three body timeouts have passed, then everything.
        request.pause();
        setTimeout(() => {
          request.on('data', (chunk: Buffer) => {
            received += chunk.length;
          });
          request.on('end', () => response.end(`got ${received}`));
          request.resume();
        }, 3000);
      });
      const proxy = await startTestProxy(t, [upstream.endpoint], { bodyIdleTimeoutSeconds: 1 });
      const answer = await send(proxy.url, '/agent/0/upload', {
        method: 'POST',
        body: Buffer.alloc(size, 120).toString('latin1'),
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.text, `got ${size}`);
    },
  );

  test(
    '--max-connections: connections beyond the cap are closed; a freed slot is usable again',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints, { maxConnections: 2 });
      const held = [0, 1].map(() => connect(proxy.port, '127.0.0.1'));
      t.after(() => {
        for (const socket of held) socket.destroy();
      });
      // Both held connections are accepted and usable (a keep-alive request on each).
      for (const socket of held) {
        const answered = new Promise((resolve) => socket.once('data', resolve));
        socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
        await answered;
      }
      const refused = await rawExchange(
        proxy.port,
        'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n',
      );
      assert.equal(refused.status, undefined);
      assert.ok(refused.closed);
      assert.ok(proxy.logLines.some((line) => line.includes('--max-connections')));
      held[0]!.destroy();
      // The server frees the slot when it sees the close; retry until it has.
      for (;;) {
        const answer = await rawExchange(
          proxy.port,
          'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
        );
        if (answer.status === 200) break;
      }
    },
  );

  test('a 5 MiB prompt passes the default limits', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 1, behavior: { maxModelLen: 10_000_000 } });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const prompt = 'x'.repeat(5 * 1024 * 1024);
    const body = JSON.stringify({ prompt, max_tokens: 4 });
    const response = await send(proxy.url, '/agent/0/generate', {
      method: 'POST',
      headers: [['Content-Type', 'application/json']],
      body,
    });
    assert.equal(response.status, 200, response.text.slice(0, 200));
    assert.equal(swarm.agents[0]!.requests.at(-1)?.body, body);
  });

  test(
    'long generations outlive the head and body timeouts: only silence cuts a stream',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({
        count: 1,
        // 150 tokens 20 ms apart: ~3 s of streaming, several times every limit below,
        // each of which still leaves a second of headroom for a loaded machine.
        behavior: { completionTokens: 150, tokenIntervalMs: 20 },
      });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints, {
        headersTimeoutSeconds: 0.5,
        bodyIdleTimeoutSeconds: 0.5,
        timeoutSeconds: 1,
      });
      const { response } = openChat(proxy.url, { stream: true });
      const answer = await response;
      assert.equal(answer.statusCode, 200);
      const text = (await readChunks(answer).rest()).toString();
      assert.match(text, /data: \[DONE\]/);
      assert.equal((text.match(/"content":/g) ?? []).length >= 150, true);
    },
  );

  test(
    'the CLI flags reach the proxy: --max-body-size 1k refuses a 2 KiB body with 413',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const proxy = spawnProxy(t, [
        '-f',
        hostfile,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--max-body-size',
        '1k',
        '--max-connections',
        '64',
        '--max-header-size',
        '16k',
        '--headers-timeout',
        '10',
        '--body-timeout',
        '10',
      ]);
      const url = await proxyUrlOf(proxy);
      const response = await send(url, '/agent/0/generate', {
        method: 'POST',
        body: 'x'.repeat(2048),
      });
      assert.equal(response.status, 413);
      assert.deepEqual(JSON.parse(response.text), {
        error: 'request body too large: at most 1024 bytes (--max-body-size)',
      });
      // Nothing was forwarded (the proxy's own health probes aside).
      assert.deepEqual(
        swarm.agents[0]!.requests.filter((request) => request.url !== '/health'),
        [],
      );
      const bad = spawnProxy(t, ['-f', hostfile, '--max-body-size', 'huge']);
      assert.equal(await bad.exited, 2);
      assert.ok(
        bad.stderrLines.some((line) => line.includes('invalid value "huge" for --max-body-size')),
      );
    },
  );
});
