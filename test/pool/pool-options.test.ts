import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { AgentPool, resolveAgentPoolOptions } from '../../src/pool/agent-pool.js';
import { parseRetryAfterMs, retryDelayMs } from '../../src/pool/retry.js';

const endpoints = [{ host: 'compute-001', port: 8000, tags: {}, url: 'http://compute-001:8000' }];

describe('pool options', () => {
  test('defaults', () => {
    const resolved = resolveAgentPoolOptions({ endpoints }, {});
    assert.equal(resolved.concurrency, 512);
    assert.equal(resolved.connectorLimit, 1024);
    assert.equal(resolved.timeoutMs, 120_000);
    assert.equal(resolved.proxyUrl, undefined);
    assert.equal(resolved.proxyToken, undefined);
    assert.equal(resolved.maxRetries, 3);
  });

  test('proxyUrl: option, else AURORA_SWARM_PROXY_URL; explicit wins; null forces direct', () => {
    const env = {
      AURORA_SWARM_PROXY_URL: 'http://localhost:9090/',
      AURORA_SWARM_PROXY_TOKEN: 'envtoken',
    };
    assert.equal(resolveAgentPoolOptions({ endpoints }, env).proxyUrl, 'http://localhost:9090');
    assert.equal(resolveAgentPoolOptions({ endpoints }, env).proxyToken, 'envtoken');
    assert.equal(
      resolveAgentPoolOptions({ endpoints, proxyUrl: 'http://login:7000' }, env).proxyUrl,
      'http://login:7000',
    );
    assert.equal(resolveAgentPoolOptions({ endpoints, proxyUrl: null }, env).proxyUrl, undefined);
    assert.equal(
      resolveAgentPoolOptions({ endpoints, proxyToken: 'mine' }, env).proxyToken,
      'mine',
    );
    assert.equal(
      resolveAgentPoolOptions({ endpoints }, { AURORA_SWARM_PROXY_URL: '  ' }).proxyUrl,
      undefined,
    );
    assert.equal(
      resolveAgentPoolOptions({ endpoints, proxyUrl: 'http://gw/swarm/' }, {}).proxyUrl,
      'http://gw/swarm',
    );
  });

  test('proxyUrl unix:PATH: a socket, made absolute; requests say localhost', () => {
    const resolved = resolveAgentPoolOptions(
      { endpoints, proxyUrl: 'unix:/run/me/proxy.sock' },
      {},
    );
    assert.equal(resolved.proxyUrl, 'unix:/run/me/proxy.sock');
    assert.equal(resolved.proxySocketPath, '/run/me/proxy.sock');
    const docker = resolveAgentPoolOptions({ endpoints, proxyUrl: 'unix:///run/me/p.sock' }, {});
    assert.equal(docker.proxySocketPath, '/run/me/p.sock');
    const relative = resolveAgentPoolOptions(
      { endpoints },
      { AURORA_SWARM_PROXY_URL: 'unix:p.sock' },
    );
    assert.equal(relative.proxySocketPath, join(process.cwd(), 'p.sock'));
    assert.equal(
      resolveAgentPoolOptions({ endpoints, proxyUrl: 'http://h:1' }, {}).proxySocketPath,
      undefined,
    );
    assert.throws(() => resolveAgentPoolOptions({ endpoints, proxyUrl: 'unix:' }, {}), {
      message:
        'option proxyUrl: expected a socket path after unix:, like "unix:/home/me/.aurora-swarm/proxy.sock", got "unix:"',
    });
  });

  test('the token file: read in proxy mode when no token is given, never in direct mode', (t) => {
    const home = mkdtempSync(join(tmpdir(), 'pool-token-'));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    const proxied = { endpoints, proxyUrl: 'http://localhost:9090' };
    // No file: no token, no error.
    assert.equal(resolveAgentPoolOptions(proxied, { HOME: home }).proxyToken, undefined);
    mkdirSync(join(home, '.aurora-swarm'), { mode: 0o700 });
    writeFileSync(join(home, '.aurora-swarm', 'proxy-token'), 'from-default-file\n', {
      mode: 0o600,
    });
    const other = join(home, 'other-token');
    writeFileSync(other, '  from-other-file  \nignored\n', { mode: 0o600 });
    assert.equal(resolveAgentPoolOptions(proxied, { HOME: home }).proxyToken, 'from-default-file');
    assert.equal(resolveAgentPoolOptions({ endpoints }, { HOME: home }).proxyToken, undefined);
    assert.equal(
      resolveAgentPoolOptions(proxied, { HOME: home, AURORA_SWARM_PROXY_TOKEN_FILE: other })
        .proxyToken,
      'from-other-file',
    );
    assert.equal(
      resolveAgentPoolOptions({ ...proxied, proxyTokenFile: other }, { HOME: home }).proxyToken,
      'from-other-file',
    );
    // The token itself wins over any file; the variable over the default file.
    assert.equal(
      resolveAgentPoolOptions({ ...proxied, proxyToken: 'mine' }, { HOME: home }).proxyToken,
      'mine',
    );
    assert.equal(
      resolveAgentPoolOptions(proxied, { HOME: home, AURORA_SWARM_PROXY_TOKEN: 'env' }).proxyToken,
      'env',
    );
    // A file that was named must be there and hold a token.
    const missing = join(home, 'nope');
    assert.throws(
      () => resolveAgentPoolOptions({ ...proxied, proxyTokenFile: missing }, { HOME: home }),
      {
        message: `option proxyTokenFile: the token file ${missing} does not exist`,
      },
    );
    assert.throws(
      () =>
        resolveAgentPoolOptions(proxied, { HOME: home, AURORA_SWARM_PROXY_TOKEN_FILE: missing }),
      {
        message: `environment variable AURORA_SWARM_PROXY_TOKEN_FILE: the token file ${missing} does not exist`,
      },
    );
    writeFileSync(other, 'two words\n');
    assert.throws(
      () => resolveAgentPoolOptions({ ...proxied, proxyTokenFile: other }, { HOME: home }),
      {
        message: `option proxyTokenFile: ${other} does not hold a token (expected one line of visible ASCII characters without spaces)`,
      },
    );
  });

  test('bad options throw InvalidOptionError quoting option, value and expected type', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ concurrency: -1 }, 'option concurrency: expected a positive integer, got -1'],
      [{ concurrency: 2.5 }, 'option concurrency: expected a positive integer, got 2.5'],
      [{ concurrency: '8' }, 'option concurrency: expected a positive integer, got "8"'],
      [{ connectorLimit: 0 }, 'option connectorLimit: expected a positive integer, got 0'],
      [{ timeoutMs: Number.NaN }, 'option timeoutMs: expected a finite number > 0, got NaN'],
      [{ maxRetries: -1 }, 'option maxRetries: expected an integer >= 0, got -1'],
      [
        { proxyUrl: 'localhost:9090' },
        'option proxyUrl: expected an http:// or https:// URL (or unix:/path/to/proxy.sock), got "localhost:9090"',
      ],
      [
        { proxyUrl: 'not a url' },
        'option proxyUrl: expected a URL like "http://localhost:9090", got "not a url"',
      ],
      [
        { proxyUrl: 9090 },
        'option proxyUrl: expected a URL string like "http://localhost:9090" (or null for direct connections), got 9090',
      ],
      [{ proxyToken: '' }, 'option proxyToken: expected a non-empty single-line string, got ""'],
      [
        { headers: { authorization: 5 } },
        'option headers["authorization"]: expected a string, got 5',
      ],
      [
        { endpoints: [] },
        'option endpoints: expected at least one agent, got an empty array (is the hostfile empty?)',
      ],
      [
        { endpoints: 'hostfile.txt' },
        'option endpoints: expected an array of { host, port } (e.g. from parseHostfile), got "hostfile.txt"',
      ],
      [
        { endpoints: [{ host: 'a', port: 70000 }] },
        'option endpoints[0]: expected { host: non-empty string, port: integer 1-65535 }, got {"host":"a","port":70000} (object)',
      ],
    ];
    for (const [patch, message] of cases) {
      assert.throws(
        () => resolveAgentPoolOptions({ endpoints, ...patch } as never, {}),
        (error: unknown) =>
          error instanceof InvalidOptionError &&
          error.code === 'ERR_INVALID_OPTION' &&
          error.message === message,
        message,
      );
    }
    assert.throws(
      () => resolveAgentPoolOptions({ endpoints }, { AURORA_SWARM_PROXY_URL: 'ftp://x' }),
      {
        message:
          'environment variable AURORA_SWARM_PROXY_URL: expected an http:// or https:// URL (or unix:/path/to/proxy.sock), got "ftp://x"',
      },
    );
    assert.throws(() => new AgentPool(undefined as never), InvalidOptionError);
  });

  test('endpoints without url or tags (plain { host, port }) are accepted', async () => {
    await using pool = new AgentPool({ endpoints: [{ host: '127.0.0.1', port: 8000 }] as never });
    assert.equal(pool.endpoints[0]!.url, 'http://127.0.0.1:8000');
    assert.deepEqual(pool.endpoints[0]!.tags, {});
  });
});

describe('retry policy', () => {
  test('delays grow exponentially with jitter, within bounds', () => {
    assert.equal(
      retryDelayMs(0, 100, undefined, () => 0),
      50,
    );
    assert.equal(
      retryDelayMs(0, 100, undefined, () => 1),
      100,
    );
    assert.equal(
      retryDelayMs(3, 100, undefined, () => 1),
      800,
    );
    assert.equal(
      retryDelayMs(30, 100, undefined, () => 1),
      30_000,
    );
  });

  test('Retry-After (seconds or HTTP date) raises the delay', () => {
    assert.equal(
      retryDelayMs(0, 100, '2', () => 0),
      2000,
    );
    assert.equal(parseRetryAfterMs('1.5'), 1500);
    assert.equal(parseRetryAfterMs(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfterMs('soon'), undefined);
    assert.equal(parseRetryAfterMs(undefined), undefined);
  });
});
