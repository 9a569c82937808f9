/**
 * The real built `aurora-swarm-proxy` with the flags of a shared login node:
 * `--pid-file` (and the line after `Proxy started` naming pid and hostfile),
 * `--token auto` / `--token-file`, `--allow-host`, `--allow-origin`, and the CLI
 * reading the token file.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import {
  MAIN_BIN,
  type ProxyProcess,
  parseStartupLine,
  STARTUP_LINE,
  send,
  spawnProxy,
  temporaryDirectory,
  writeHostfile,
} from '../proxy/proxy-test-helpers.js';

const execFileAsync = promisify(execFile);
const SAFETY = { timeout: 30_000 };
/** The usage guide's startup line, as a user's script would match it. */
const GUIDE_LINE =
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \[INFO\] aurora_swarm\.proxy: Proxy started — listening on 127\.0\.0\.1:(\d+) with 2 agent\(s\)$/;

/** Simulated agents and their hostfile, closed after the test. */
async function agentsHostfile(t: TestContext, count: number): Promise<string> {
  const swarm = await startMockSwarm({ count });
  t.after(() => swarm.close());
  return writeHostfile(t, swarm.hostfileText);
}

/** The proxy on loopback, on a free port, with `args` after the hostfile. */
function spawnLocalProxy(t: TestContext, hostfile: string, ...args: string[]): ProxyProcess {
  return spawnProxy(t, ['-f', hostfile, '--host', '127.0.0.1', '-p', '0', ...args]);
}

async function expectOneLineError(proxy: ProxyProcess, exitCode: number, pattern: RegExp) {
  assert.equal(await proxy.exited, exitCode);
  const lines = proxy.stderrLines.filter((line) => line.trim() !== '');
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0] ?? '', /\[ERROR\]/);
  assert.match(lines[0] ?? '', pattern);
}

describe('aurora-swarm-proxy --pid-file and its startup lines', { concurrency: true }, () => {
  test(
    "the guide's startup line unchanged, then pid and hostfile; kill -HUP $(cat PATH) reloads; removed on exit",
    SAFETY,
    async (t) => {
      const hostfile = await agentsHostfile(t, 2);
      const pidFile = join(temporaryDirectory(t), 'proxy.pid');
      const proxy = spawnLocalProxy(t, hostfile, '--pid-file', pidFile);
      const started = await proxy.waitForLine(STARTUP_LINE);
      assert.match(started, GUIDE_LINE);
      assert.equal(parseStartupLine(started).agents, 2);
      const pid = proxy.child.pid;
      const identity = await proxy.waitForLine(/Proxy pid/);
      assert.equal(proxy.stderrLines.indexOf(identity), proxy.stderrLines.indexOf(started) + 1);
      assert.ok(
        identity.endsWith(
          `Proxy pid ${pid} serving hostfile ${hostfile} (reload it: kill -HUP $(cat ${pidFile}))`,
        ),
        identity,
      );
      assert.equal(readFileSync(pidFile, 'utf8'), `${pid}\n`);
      // As docs/operations.md tells the user to.
      await execFileAsync('sh', ['-c', `kill -HUP $(cat ${pidFile})`]);
      await proxy.waitForLine(/Received SIGHUP: reloading the hostfile/);
      await proxy.waitForLine(/Reloaded hostfile — 2 agent\(s\)/);
      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0);
      assert.equal(existsSync(pidFile), false);
    },
  );

  test('without --pid-file the line names the pid to signal', SAFETY, async (t) => {
    const hostfile = await agentsHostfile(t, 2);
    const proxy = spawnLocalProxy(t, hostfile);
    const identity = await proxy.waitForLine(/Proxy pid/);
    const pid = proxy.child.pid;
    assert.ok(
      identity.endsWith(
        `Proxy pid ${pid} serving hostfile ${hostfile} (reload it: kill -HUP ${pid})`,
      ),
      identity,
    );
    proxy.child.kill('SIGTERM');
    assert.equal(await proxy.exited, 0);
  });

  test(
    'a pid file of a running proxy is refused; a stale one replaced; a missing directory is exit 2',
    SAFETY,
    async (t) => {
      const hostfile = await agentsHostfile(t, 2);
      const directory = temporaryDirectory(t);
      const pidFile = join(directory, 'proxy.pid');
      const first = spawnLocalProxy(t, hostfile, '--pid-file', pidFile);
      await first.waitForLine(/Proxy pid/);
      const second = spawnLocalProxy(t, hostfile, '--pid-file', pidFile);
      await expectOneLineError(
        second,
        1,
        new RegExp(
          `the pid file .*proxy\\.pid names a proxy that is still running \\(pid ${first.child.pid}\\)`,
        ),
      );
      assert.equal(readFileSync(pidFile, 'utf8'), `${first.child.pid}\n`);
      first.child.kill('SIGKILL');
      await first.exited;
      // Killed -9: the file stays, naming a dead process; the next proxy takes it over.
      assert.ok(existsSync(pidFile));
      const third = spawnLocalProxy(t, hostfile, '--pid-file', pidFile);
      await third.waitForLine(/Proxy pid/);
      assert.equal(readFileSync(pidFile, 'utf8'), `${third.child.pid}\n`);
      third.child.kill('SIGTERM');
      assert.equal(await third.exited, 0);

      await expectOneLineError(
        spawnLocalProxy(t, hostfile, '--pid-file', join(directory, 'no', 'p.pid')),
        2,
        /cannot write the pid file .*no\/p\.pid: its directory does not exist/,
      );
    },
  );
});

describe('aurora-swarm-proxy --token auto', { concurrency: true }, () => {
  test(
    'a new 0600 token file, a line for the laptop without the token, enforced; reused on restart; read by the CLI',
    SAFETY,
    async (t) => {
      const hostfile = await agentsHostfile(t, 2);
      const tokenFile = join(temporaryDirectory(t), 'keys', 'proxy-token');
      const args = [
        '-f',
        hostfile,
        '--host',
        '127.0.0.1',
        '-p',
        '0',
        '--token',
        'auto',
        '--token-file',
        tokenFile,
      ];
      const proxy = spawnProxy(t, args);
      const { port } = parseStartupLine(await proxy.waitForLine(STARTUP_LINE));
      const url = `http://127.0.0.1:${port}`;
      const notice = await proxy.waitForLine(/proxy token/i);
      const token = readFileSync(tokenFile, 'utf8').trim();
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.match(notice, new RegExp(`New proxy token written to ${tokenFile} \\(mode 600`));
      assert.match(
        notice,
        new RegExp(
          `on your laptop: export AURORA_SWARM_PROXY_TOKEN="\\$\\(ssh \\S+@\\S+ cat ${tokenFile}\\)"$`,
        ),
      );
      assert.ok(!proxy.stderrLines.join('\n').includes(token), 'the token is never logged');
      assert.ok(!proxy.stderrLines.some((line) => line.includes('[WARNING]')));
      assert.equal((await send(url, '/status')).status, 401);
      assert.equal(
        (await send(url, '/status', { headers: [['Proxy-Authorization', `Bearer ${token}`]] }))
          .status,
        200,
      );

      // The CLI reads the file: --token-file, or AURORA_SWARM_PROXY_TOKEN_FILE.
      const viaFlag = spawnProxy(
        t,
        ['status', '--proxy', url, '--json', '--token-file', tokenFile],
        { bin: MAIN_BIN },
      );
      assert.equal(await viaFlag.exited, 0, viaFlag.stderrLines.join('\n'));
      const viaEnv = spawnProxy(t, ['status', '--proxy', url, '--json'], {
        bin: MAIN_BIN,
        env: { AURORA_SWARM_PROXY_TOKEN_FILE: tokenFile },
      });
      assert.equal(await viaEnv.exited, 0, viaEnv.stderrLines.join('\n'));
      const without = spawnProxy(t, ['status', '--proxy', url], {
        bin: MAIN_BIN,
        env: { HOME: temporaryDirectory(t) },
      });
      assert.equal(await without.exited, 1);
      assert.match(
        without.stderrLines.join('\n'),
        /it requires a token \(pass --token or --token-file/,
      );

      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0);
      // Restarted, it keeps the token its clients have.
      const again = spawnProxy(t, args);
      const reused = await again.waitForLine(/proxy token/i);
      assert.match(reused, new RegExp(`Proxy token read from ${tokenFile}`));
      assert.equal(readFileSync(tokenFile, 'utf8').trim(), token);
      again.child.kill('SIGTERM');
      assert.equal(await again.exited, 0);
    },
  );

  test(
    '--token-file alone means auto; with a literal token, or a file others can read, it is exit 2',
    SAFETY,
    async (t) => {
      const hostfile = await agentsHostfile(t, 1);
      const directory = temporaryDirectory(t);
      const tokenFile = join(directory, 'token');
      // A bad flag or hostfile changes nothing: no token file is written.
      await expectOneLineError(
        spawnProxy(t, ['-f', hostfile, '-p', 'abc', '--token', 'auto', '--token-file', tokenFile]),
        2,
        /invalid value "abc" for --port/,
      );
      await expectOneLineError(
        spawnProxy(t, ['-f', join(directory, 'missing.txt'), '--token-file', tokenFile]),
        1,
        /cannot read hostfile/,
      );
      assert.equal(existsSync(tokenFile), false);
      const alone = spawnLocalProxy(t, hostfile, '--token-file', tokenFile);
      const { port } = parseStartupLine(await alone.waitForLine(STARTUP_LINE));
      assert.equal((await send(`http://127.0.0.1:${port}/`, '/status')).status, 401);
      alone.child.kill('SIGTERM');
      assert.equal(await alone.exited, 0);

      await expectOneLineError(
        spawnProxy(t, ['-f', hostfile, '-p', '0', '--token', 'literal', '--token-file', tokenFile]),
        2,
        /--token-file is where --token auto keeps its token/,
      );
      chmodSync(tokenFile, 0o644);
      await expectOneLineError(
        spawnProxy(t, ['-f', hostfile, '-p', '0', '--token', 'auto', '--token-file', tokenFile]),
        2,
        /--token auto: the token file .* can be read by other users \(mode 644\): run chmod 600/,
      );
    },
  );
});

describe('aurora-swarm-proxy --allow-host and --allow-origin', { concurrency: true }, () => {
  test('repeatable, honoured, and bad values are exit 2', SAFETY, async (t) => {
    const hostfile = await agentsHostfile(t, 1);
    const proxy = spawnLocalProxy(
      t,
      hostfile,
      '--allow-host',
      'gateway.site.gov',
      '--allow-host',
      '.alcf.example',
      '--allow-origin',
      'https://notebooks.example.org',
    );
    const { port } = parseStartupLine(await proxy.waitForLine(STARTUP_LINE));
    const url = `http://127.0.0.1:${port}`;
    for (const host of ['gateway.site.gov', 'polaris.alcf.example:9090']) {
      assert.equal(
        (await send(url, '/agent/0/v1/models', { headers: [['Host', host]] })).status,
        200,
        host,
      );
    }
    assert.equal(
      (await send(url, '/health', { headers: [['Host', 'attacker.example']] })).status,
      403,
    );
    const cors = await send(url, '/status', {
      headers: [['Origin', 'https://notebooks.example.org']],
    });
    assert.equal(cors.status, 200);
    assert.equal(cors.headers['access-control-allow-origin'], 'https://notebooks.example.org');
    proxy.child.kill('SIGTERM');
    assert.equal(await proxy.exited, 0);

    await expectOneLineError(
      spawnProxy(t, ['-f', hostfile, '-p', '0', '--allow-host', 'gateway.site.gov:443']),
      2,
      /invalid value "gateway\.site\.gov:443" for --allow-host: .*without a port/,
    );
    await expectOneLineError(
      spawnProxy(t, ['-f', hostfile, '-p', '0', '--allow-origin', 'notebooks.example.org']),
      2,
      /invalid value "notebooks\.example\.org" for --allow-origin/,
    );
  });
});

test('a stale pid of a process that is not a proxy does not block', SAFETY, async (t) => {
  const hostfile = await agentsHostfile(t, 1);
  const pidFile = join(temporaryDirectory(t), 'proxy.pid');
  // A live process that is not aurora-swarm, its pid in the file (pid reuse after a reboot).
  const stranger = spawn('sleep', ['30']);
  t.after(() => stranger.kill('SIGKILL'));
  writeFileSync(pidFile, `${stranger.pid}\n`);
  const proxy = spawnLocalProxy(t, hostfile, '--pid-file', pidFile);
  await proxy.waitForLine(/Proxy pid/);
  assert.equal(readFileSync(pidFile, 'utf8'), `${proxy.child.pid}\n`);
  proxy.child.kill('SIGTERM');
  assert.equal(await proxy.exited, 0);
  stranger.kill('SIGKILL');
  await once(stranger, 'exit');
});
