/**
 * `--unix PATH` (`unixSocket`): an owner-only socket for shared login nodes, the
 * stale socket of a killed proxy, a socket in use, unfit paths, and the clients that
 * talk to it (curl --unix-socket, the pools with `proxyUrl: 'unix:...'`, the CLI).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { InvalidOptionError, ProxyStartError } from '../../../src/errors.js';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import { scatterGather } from '../../../src/patterns/scatter-gather.js';
import { VLLMPool } from '../../../src/pool/vllm-pool.js';
import type { ProxyOptions } from '../../../src/proxy/proxy-options.js';
import { startProxy } from '../../../src/proxy/proxy-server.js';
import {
  MAIN_BIN,
  send,
  spawnProxy,
  startTestProxy,
  temporaryDirectory,
  writeHostfile,
} from '../proxy-test-helpers.js';

const execFileAsync = promisify(execFile);
const SAFETY = { timeout: 30_000 };

/** A private directory for sockets (temporary directories are 0700 already). */
function socketDirectory(t: TestContext): string {
  const directory = join(temporaryDirectory(t), 'run');
  mkdirSync(directory, { mode: 0o700 });
  return directory;
}

async function getOverSocket(socketPath: string, path: string) {
  const dispatcher = new Agent({ socketPath });
  try {
    const response = await request(`http://localhost${path}`, { dispatcher });
    return { status: response.statusCode, text: await response.body.text() };
  } finally {
    await dispatcher.close();
  }
}

async function startOnSocket(t: TestContext, options: ProxyOptions) {
  const swarm = await startMockSwarm({ count: 2 });
  t.after(() => swarm.close());
  const logLines: string[] = [];
  const proxy = await startProxy(
    {
      endpoints: swarm.endpoints,
      healthIntervalSeconds: 0,
      shutdownGraceSeconds: 0,
      logSink: (line) => logLines.push(line),
      ...options,
    },
    {},
  );
  t.after(() => proxy.destroy());
  return { swarm, proxy, logLines };
}

describe('--unix: the owner-only socket', () => {
  test(
    'created 0600 even under umask 0, the umask restored; only the socket listens; gone on close',
    SAFETY,
    async (t) => {
      const socketPath = join(socketDirectory(t), 'proxy.sock');
      const previous = process.umask(0);
      t.after(() => process.umask(previous));
      const { proxy, logLines } = await startOnSocket(t, { unixSocket: socketPath });
      assert.equal(process.umask(), 0, 'the umask is put back');
      assert.ok(lstatSync(socketPath).isSocket());
      assert.equal(statSync(socketPath).mode & 0o777, 0o600);
      assert.equal(proxy.url, `unix:${socketPath}`);
      assert.equal(proxy.socketPath, socketPath);
      assert.equal(proxy.port, 0);
      assert.ok(
        logLines.some((line) =>
          line.endsWith(`Proxy started — listening on unix:${socketPath} with 2 agent(s)\n`),
        ),
        logLines.join(''),
      );
      // No open-port warning: nothing listens on the network.
      assert.ok(!logLines.some((line) => line.includes('[WARNING]')), logLines.join(''));
      assert.deepEqual(await getOverSocket(socketPath, '/health'), {
        status: 200,
        text: '{"status":"ok"}',
      });
      const models = await getOverSocket(socketPath, '/agent/1/v1/models');
      assert.equal(models.status, 200);
      // The Host check applies on the socket too (the laptop's tunnel is a TCP port).
      const dispatcher = new Agent({ socketPath });
      t.after(() => dispatcher.close());
      const rebound = await request('http://attacker.example/status', { dispatcher });
      assert.equal(rebound.statusCode, 403);
      await rebound.body.text();
      await proxy.close();
      assert.equal(existsSync(socketPath), false, 'the socket file is removed on close');
    },
  );

  test('both --unix and a TCP port; a missing directory is created 0700', SAFETY, async (t) => {
    const socketPath = join(temporaryDirectory(t), 'new', 'dir', 'proxy.sock');
    const { proxy, logLines } = await startOnSocket(t, {
      unixSocket: socketPath,
      host: '127.0.0.1',
      port: 0,
    });
    assert.equal(statSync(join(socketPath, '..')).mode & 0o777, 0o700);
    assert.notEqual(proxy.port, 0);
    assert.equal(proxy.url, `http://127.0.0.1:${proxy.port}`);
    assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 200);
    assert.equal((await getOverSocket(socketPath, '/agent/0/v1/models')).status, 200);
    assert.ok(
      logLines.some((line) =>
        line.includes(
          `listening on 127.0.0.1:${proxy.port} and unix:${socketPath} with 2 agent(s)`,
        ),
      ),
    );
  });

  test(
    'a stale socket of a killed proxy is replaced; one in use is "Address already in use"',
    SAFETY,
    async (t) => {
      const directory = socketDirectory(t);
      const socketPath = join(directory, 'proxy.sock');
      // A process that listens and is killed -9: its socket file stays behind.
      const killed = spawn(process.execPath, [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
      ]);
      await once(killed, 'exit');
      assert.ok(lstatSync(socketPath).isSocket());
      const { proxy, logLines } = await startOnSocket(t, { unixSocket: socketPath });
      assert.ok(logLines.some((line) => line.includes(`removed the stale socket ${socketPath}`)));
      assert.equal((await getOverSocket(socketPath, '/health')).status, 200);

      // A second proxy on the same path: refused, and the first keeps serving.
      await assert.rejects(
        startProxy(
          { endpoints: proxy.endpoints, unixSocket: socketPath, logSink: () => undefined },
          {},
        ),
        (error: unknown) =>
          error instanceof ProxyStartError &&
          error.message ===
            `Address already in use: cannot listen on unix:${socketPath}; another process is listening on that socket — stop it or choose a different path with --unix`,
      );
      assert.equal((await getOverSocket(socketPath, '/health')).status, 200);

      // Any other server on the path counts as in use too.
      const otherPath = join(directory, 'other.sock');
      const other = createServer();
      other.listen(otherPath);
      await once(other, 'listening');
      t.after(() => other.close());
      await assert.rejects(
        startProxy(
          { endpoints: proxy.endpoints, unixSocket: otherPath, logSink: () => undefined },
          {},
        ),
        /Address already in use: cannot listen on unix:/,
      );
    },
  );

  test('unfit paths are one-line errors before anything listens', SAFETY, async (t) => {
    const directory = temporaryDirectory(t);
    const endpoints = [{ host: '127.0.0.1', port: 1, tags: {}, url: 'http://127.0.0.1:1' }];
    const start = (unixSocket: string) =>
      startProxy({ endpoints, unixSocket, healthIntervalSeconds: 0, logSink: () => undefined }, {});
    const shared = join(directory, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    await assert.rejects(
      start(join(shared, 'proxy.sock')),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        /^--unix .*shared\/proxy\.sock: the directory .*shared can be written by other users \(mode 1777\)/.test(
          error.message,
        ),
    );
    const regular = join(directory, 'not-a-socket');
    writeFileSync(regular, 'my notes\n');
    await assert.rejects(start(regular), /a file that is not a socket is in the way/);
    assert.equal(readFileSync(regular, 'utf8'), 'my notes\n', 'the file is left alone');
    await assert.rejects(
      start(join(directory, 'x'.repeat(120))),
      /too long for a Unix socket \(at most 107\)/,
    );
    await assert.rejects(start(''), /invalid value "" for --unix/);
  });

  test(
    'curl --unix-socket, the pools (proxyUrl unix:...) and aurora-swarm status reach the agents',
    SAFETY,
    async (t) => {
      const socketPath = join(socketDirectory(t), 'proxy.sock');
      const { swarm } = await startOnSocket(t, { unixSocket: socketPath });
      const { stdout } = await execFileAsync('curl', [
        '--silent',
        '--fail',
        '--unix-socket',
        socketPath,
        'http://localhost/agent/1/v1/models',
      ]);
      assert.match(stdout, /"object":"list"/);
      assert.equal(swarm.agents[1]?.requests.at(-1)?.url, '/v1/models');

      await using pool = new VLLMPool({
        endpoints: swarm.endpoints,
        proxyUrl: `unix:${socketPath}`,
        maxTokens: 8,
      });
      assert.equal(pool.proxyUrl, `unix:${socketPath}`);
      const answers = await scatterGather(pool, ['a', 'b', 'c']);
      assert.deepEqual(
        answers.map((answer) => [answer.success, answer.agentIndex]),
        [
          [true, 0],
          [true, 1],
          [true, 0],
        ],
      );

      const status = spawnProxy(t, ['status', '--proxy', `unix:${socketPath}`, '--json'], {
        bin: MAIN_BIN,
      });
      assert.equal(await status.exited, 0, status.stderrLines.join('\n'));
      assert.equal(JSON.parse(status.stdout()).agents, 2);
    },
  );

  test(
    'aurora-swarm-proxy --unix: no TCP port unless --port or --host is given too',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const socketPath = join(socketDirectory(t), 'proxy.sock');
      const only = spawnProxy(t, ['-f', hostfile, '--unix', socketPath]);
      const line = await only.waitForLine(/Proxy started/);
      assert.match(line, new RegExp(`listening on unix:${socketPath} with 1 agent\\(s\\)$`));
      assert.equal((await getOverSocket(socketPath, '/agent/0/v1/models')).status, 200);
      only.child.kill('SIGTERM');
      assert.equal(await only.exited, 0);
      assert.equal(existsSync(socketPath), false);

      const both = spawnProxy(t, [
        '-f',
        hostfile,
        '--unix',
        socketPath,
        '--host',
        '127.0.0.1',
        '-p',
        '0',
      ]);
      const bothLine = await both.waitForLine(/Proxy started/);
      const port = /listening on 127\.0\.0\.1:(\d+) and unix:/.exec(bothLine)?.[1];
      assert.ok(port, bothLine);
      assert.equal((await send(`http://127.0.0.1:${port}`, '/health')).status, 200);
      both.child.kill('SIGTERM');
      assert.equal(await both.exited, 0);
    },
  );
});

describe('the TCP proxy is unchanged without --unix', () => {
  test('socketPath is undefined and url is http://', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    assert.equal(proxy.socketPath, undefined);
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
