/**
 * The real built `aurora-swarm-proxy` (and `aurora-swarm proxy`) as a process:
 * flags, log lines, startup errors, environment fallback and signals.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import {
  MAIN_BIN,
  open,
  type ProxyProcess,
  parseStartupLine,
  proxyUrlOf,
  responseFailure,
  STARTUP_LINE,
  send,
  spawnProxy,
  startUpstream,
  writeHostfile,
} from '../proxy/proxy-test-helpers.js';

const SAFETY = { timeout: 30_000 };
const LOG_LINE =
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] aurora_swarm\.proxy: /;

/** Expect a startup failure: exit code, one ERROR/CRITICAL line matching `pattern`, no stack. */
async function expectStartupError(process: ProxyProcess, exitCode: number, pattern: RegExp) {
  assert.equal(await process.exited, exitCode);
  const lines = process.stderrLines.filter((line) => line.trim() !== '');
  assert.equal(lines.length, 1, `one line expected, got:\n${lines.join('\n')}`);
  const [line = ''] = lines;
  assert.match(line, LOG_LINE);
  assert.match(line, /\[(ERROR|CRITICAL)\]/);
  assert.match(line, pattern);
  assert.doesNotMatch(line, /\n\s+at /);
}

describe('aurora-swarm-proxy command line', { concurrency: true }, () => {
  test(
    'starts, logs the startup line with the real port and agent count, forwards, and stops on SIGTERM',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 4 });
      t.after(() => swarm.close());
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const proxy = spawnProxy(t, ['--hostfile', hostfile, '--host', '127.0.0.1', '--port', '0']);
      const { host, port, agents } = parseStartupLine(await proxy.waitForLine(STARTUP_LINE));
      assert.equal(host, '127.0.0.1');
      assert.notEqual(port, 0);
      assert.equal(agents, 4);
      const url = `http://127.0.0.1:${port}`;
      assert.deepEqual(JSON.parse((await send(url, '/health')).text), { status: 'ok' });
      assert.equal((await send(url, '/agent/3/v1/models')).status, 200);
      // The proxy's own health probes (GET /health) are not forwarded requests.
      const forwarded = swarm.agents[3]?.requests.filter((request) => request.url !== '/health');
      assert.equal(forwarded?.length, 1);
      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0);
      await proxy.waitForLine(/\[INFO\] aurora_swarm\.proxy: Proxy shut down$/);
      for (const logLine of proxy.stderrLines) assert.match(logLine, LOG_LINE);
    },
  );

  test(
    'short flags, fractional timeout and a lower-case log level are accepted',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'hang' } });
      t.after(() => swarm.close());
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const proxy = spawnProxy(t, [
        '-f',
        hostfile,
        '-p',
        '0',
        '-t',
        '0.2',
        '--host',
        '127.0.0.1',
        '--connector-limit',
        '8',
        '--log-level',
        'debug',
      ]);
      const url = await proxyUrlOf(proxy);
      const response = await send(url, '/agent/0/v1/models');
      assert.equal(response.status, 504);
      assert.deepEqual(JSON.parse(response.text), { error: 'upstream timeout after 0.2s' });
      proxy.child.kill('SIGINT');
      assert.equal(await proxy.exited, 0);
      assert.ok(
        proxy.stderrLines.some((line) => line.includes('[WARNING]') && line.includes('504')),
      );
    },
  );

  test('the hostfile falls back to AURORA_SWARM_HOSTFILE', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const proxy = spawnProxy(t, ['--host', '127.0.0.1', '--port', '0'], {
      env: { AURORA_SWARM_HOSTFILE: hostfile },
    });
    const line = await proxy.waitForLine(STARTUP_LINE);
    assert.match(line, /with 2 agent\(s\)$/);
    proxy.child.kill('SIGTERM');
    assert.equal(await proxy.exited, 0);
  });

  test(
    'the default bind address 0.0.0.0 logs a loud warning; a token silences it and is enforced',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const open0 = spawnProxy(t, ['-f', hostfile, '--port', '0']);
      const line = await open0.waitForLine(STARTUP_LINE);
      assert.match(line, /listening on 0\.0\.0\.0:\d+ with 1 agent\(s\)$/);
      const warning = await open0.waitForLine(/\[WARNING\]/);
      assert.match(warning, /anyone who can reach port \d+ can use every agent/);
      assert.match(warning, /--host 127\.0\.0\.1/);
      assert.match(warning, /--token/);
      open0.child.kill('SIGTERM');
      assert.equal(await open0.exited, 0);

      const guarded = spawnProxy(t, ['-f', hostfile, '--port', '0'], {
        env: { AURORA_SWARM_PROXY_TOKEN: 'from-env' },
      });
      const url = await proxyUrlOf(guarded);
      assert.equal((await send(url, '/status')).status, 401);
      const allowed = await send(url, '/status', {
        headers: [['Proxy-Authorization', 'Bearer from-env']],
      });
      assert.equal(allowed.status, 200);
      guarded.child.kill('SIGTERM');
      assert.equal(await guarded.exited, 0);
      assert.ok(!guarded.stderrLines.some((stderrLine) => stderrLine.includes('[WARNING]')));
    },
  );

  test('--help documents every flag and --version prints the version', async (t) => {
    const help = spawnProxy(t, ['--help']);
    assert.equal(await help.exited, 0);
    for (const flag of [
      '--hostfile',
      '-f',
      '--host',
      '--port',
      '-p',
      '--connector-limit',
      '--max-idle-per-agent',
      '--timeout',
      '-t',
      '--log-level',
      '--token',
      '--token-file',
      '--unix',
      '--allow-host',
      '--allow-origin',
      '--pid-file',
      '--max-timeout',
      '--health-interval',
      '--health-timeout',
      '--unhealthy-threshold',
      '--healthy-threshold',
      '--health-concurrency',
      '--no-watch',
      '--no-metrics-agent-label',
      '/metrics',
      '/v1/{path}',
      'X-Agent-Tag',
      'X-Session-Id',
      'X-Agent-Index',
      'SIGHUP',
      'AURORA_SWARM_HOSTFILE',
      'X-Timeout',
      '0.0.0.0',
      '9090',
      '1024',
      '300',
      'INFO',
    ]) {
      assert.ok(help.stdout().includes(flag), `--help mentions ${flag}`);
    }
    const version = spawnProxy(t, ['--version']);
    assert.equal(await version.exited, 0);
    assert.match(version.stdout().trim(), /^\d+\.\d+\.\d+/);
  });

  test('aurora-swarm proxy takes the same flags', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 3 });
    t.after(() => swarm.close());
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const proxy = spawnProxy(t, ['proxy', '-f', hostfile, '--host', '127.0.0.1', '-p', '0'], {
      bin: MAIN_BIN,
    });
    const url = await proxyUrlOf(proxy);
    assert.equal((await send(url, '/agent/2/v1/models')).status, 200);
    proxy.child.kill('SIGTERM');
    assert.equal(await proxy.exited, 0);
  });
});

describe('aurora-swarm-proxy startup errors: one line, non-zero exit, no stack trace', {
  concurrency: true,
}, () => {
  test('missing hostfile', async (t) => {
    await expectStartupError(
      spawnProxy(t, ['--hostfile', '/nonexistent/hostfile.txt', '--port', '0']),
      1,
      /cannot read hostfile \/nonexistent\/hostfile\.txt/,
    );
  });

  test('no hostfile at all', async (t) => {
    await expectStartupError(
      spawnProxy(t, ['--port', '0']),
      2,
      /--hostfile.*AURORA_SWARM_HOSTFILE/,
    );
  });

  test('empty hostfile: "No endpoints found in hostfile"', async (t) => {
    const hostfile = writeHostfile(t, '# nothing here\n\n');
    await expectStartupError(
      spawnProxy(t, ['-f', hostfile, '--port', '0']),
      1,
      /No endpoints found in hostfile/,
    );
  });

  test('hostfile syntax error names path and line', async (t) => {
    const hostfile = writeHostfile(t, 'compute-001\t8000\ncompute-002\tnotaport\n');
    await expectStartupError(
      spawnProxy(t, ['-f', hostfile, '--port', '0']),
      1,
      new RegExp(`${hostfile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: `),
    );
  });

  test('port in use: "Address already in use" naming the port and --port', async (t) => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const hostfile = writeHostfile(t, 'compute-001\t8000\n');
    await expectStartupError(
      spawnProxy(t, ['-f', hostfile, '--host', '127.0.0.1', '--port', String(port)]),
      1,
      new RegExp(`Address already in use.*${port}.*--port`),
    );
  });

  test('invalid flag values quote the flag and the value (exit 2)', async (t) => {
    const hostfile = writeHostfile(t, 'compute-001\t8000\n');
    await expectStartupError(
      spawnProxy(t, ['-f', hostfile, '--port', 'abc']),
      2,
      /invalid value "abc" for --port: expected an integer from 0 to 65535/,
    );
    await expectStartupError(
      spawnProxy(t, ['-f', hostfile, '--bogus']),
      2,
      /unknown option '--bogus'/,
    );
  });
});

describe('aurora-swarm-proxy graceful shutdown', { concurrency: true }, () => {
  test(
    'SIGTERM lets an in-flight request finish, refuses new connections, then exits 0',
    SAFETY,
    async (t) => {
      const held: ServerResponse[] = [];
      const upstream = await startUpstream(t, (_request, response) => held.push(response));
      const hostfile = writeHostfile(t, `127.0.0.1\t${upstream.port}\n`);
      // No health probes: this upstream holds every request it gets.
      const proxy = spawnProxy(t, [
        '-f',
        hostfile,
        '--host',
        '127.0.0.1',
        '-p',
        '0',
        '--health-interval',
        '0',
      ]);
      const url = await proxyUrlOf(proxy);
      const arrived = once(upstream.events, 'request');
      const inFlight = send(url, '/agent/0/v1/chat/completions', { method: 'POST', body: '{}' });
      await arrived;
      proxy.child.kill('SIGTERM');
      await proxy.waitForLine(/Received SIGTERM/);
      await assert.rejects(send(url, '/health'), /ECONNREFUSED/);
      held.shift()?.end('{"done":true}');
      const response = await inFlight;
      assert.equal(response.status, 200);
      assert.equal(response.text, '{"done":true}');
      assert.equal(await proxy.exited, 0);
      assert.ok(proxy.stderrLines.some((line) => line.endsWith('Proxy shut down')));
    },
  );

  test(
    'requests still running after the grace period are cut, and the agent sees it',
    SAFETY,
    async (t) => {
      const upstream = await startUpstream(t, () => undefined);
      const hostfile = writeHostfile(t, `127.0.0.1\t${upstream.port}\n`);
      const proxy = spawnProxy(t, [
        '-f',
        hostfile,
        '--host',
        '127.0.0.1',
        '-p',
        '0',
        '--shutdown-grace',
        '0.2',
        '--health-interval',
        '0',
      ]);
      const url = await proxyUrlOf(proxy);
      const arrived = once(upstream.events, 'request');
      const aborted = once(upstream.events, 'aborted');
      const { response } = open(url, '/agent/0/v1/chat/completions', {
        method: 'POST',
        body: '{}',
      });
      const failed = response.then(
        (answer) => responseFailure(answer),
        () => undefined,
      );
      await arrived;
      proxy.child.kill('SIGTERM');
      await aborted;
      await failed;
      assert.equal(await proxy.exited, 0);
      assert.ok(proxy.stderrLines.some((line) => line.endsWith('Proxy shut down')));
    },
  );
});
