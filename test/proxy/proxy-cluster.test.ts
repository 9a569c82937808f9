import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { resolveProxyWorkers, workerLogSink } from '../../src/proxy/proxy-cluster.js';
import { send, spawnProxy, temporaryDirectory, writeHostfile } from './proxy-test-helpers.js';

const execFileAsync = promisify(execFile);

const CHAT_BODY = JSON.stringify({
  messages: [{ role: 'user', content: 'Which agent are you?' }],
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('--workers 2: one startup line, both workers serve, clean exit on SIGTERM', {
  timeout: 30_000,
}, async (t) => {
  const swarm = await startMockSwarm({ count: 2 });
  t.after(() => swarm.close());
  const hostfile = writeHostfile(t, swarm.hostfileText);
  const proxy = spawnProxy(t, [
    '--workers',
    '2',
    '--hostfile',
    hostfile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
  ]);
  const started = await proxy.waitForLine(/Proxy started/);
  const port = /listening on 127\.0\.0\.1:(\d+) with 2 agent\(s\) \(2 worker processes\)/.exec(
    started,
  )?.[1];
  assert.ok(port, started);
  const url = `http://127.0.0.1:${port}`;

  for (const agent of [0, 1]) {
    const response = await send(url, `/agent/${agent}/v1/chat/completions`, {
      method: 'POST',
      headers: [
        ['host', `127.0.0.1:${port}`],
        ['content-type', 'application/json'],
        ['content-length', String(Buffer.byteLength(CHAT_BODY))],
      ],
      body: CHAT_BODY,
    });
    assert.equal(response.status, 200, response.text);
    assert.match(response.text, new RegExp(`Agent ${agent} `));
  }

  // Each connection goes to one worker (round-robin): new connections reach both.
  const workers = new Map<number, number>();
  for (let attempt = 0; attempt < 40 && workers.size < 2; attempt++) {
    const status = JSON.parse((await send(url, '/status')).text);
    assert.equal(status.agents, 2);
    assert.equal(status.worker.count, 2);
    assert.equal(status.worker.counters, 'this worker only');
    workers.set(status.worker.index, status.worker.pid);
  }
  assert.deepEqual([...workers.keys()].sort(), [1, 2]);
  assert.equal(proxy.stderrLines.filter((line) => line.includes('Proxy started')).length, 1);

  proxy.child.kill('SIGTERM');
  assert.equal(await proxy.exited, 0);
  const lines = proxy.stderrLines;
  assert.ok(
    lines.some((line) => line.includes('[worker 1/2] Proxy shut down')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((line) => line.includes('[worker 2/2] Proxy shut down')),
    lines.join('\n'),
  );
  assert.match(lines.at(-1) ?? '', /aurora_swarm\.proxy: Proxy shut down$/);
  for (const pid of workers.values())
    assert.equal(isAlive(pid), false, `worker ${pid} still running`);
});

test('--workers with a bad hostfile fails once, before forking', { timeout: 30_000 }, async (t) => {
  const proxy = spawnProxy(t, [
    '--workers',
    '2',
    '--hostfile',
    '/nonexistent/hostfile.txt',
    '--port',
    '0',
  ]);
  assert.equal(await proxy.exited, 1);
  assert.equal(proxy.stderrLines.filter((line) => line.includes('[ERROR]')).length, 1);
  assert.ok(!proxy.stderrLines.some((line) => line.includes('[worker')));
});

test('--workers rejects values that are not an integer from 1 to 64', {
  timeout: 30_000,
}, async (t) => {
  const proxy = spawnProxy(t, ['--workers', 'two', '--hostfile', '/nonexistent/hostfile.txt']);
  assert.equal(await proxy.exited, 2);
  assert.match(
    proxy.stderrLines.join('\n'),
    /invalid value "two" for --workers: expected an integer from 1 to 64/,
  );
  assert.equal(resolveProxyWorkers(undefined), 1);
  assert.equal(resolveProxyWorkers('8'), 8);
  for (const value of [0, 65, 1.5, '-1', '']) assert.throws(() => resolveProxyWorkers(value));
});

test('worker log lines name the worker; its own startup line is left to the primary', () => {
  const lines: string[] = [];
  const sink = workerLogSink((line) => lines.push(line), { index: 2, count: 3 });
  sink(
    '2025-01-15 10:00:00 [INFO] aurora_swarm.proxy: Proxy started — listening on 0.0.0.0:9090 with 4 agent(s)\n',
  );
  sink('2025-01-15 10:00:01 [WARNING] aurora_swarm.proxy: agent 1 failed\n');
  assert.deepEqual(lines, [
    '2025-01-15 10:00:01 [WARNING] aurora_swarm.proxy: [worker 2/3] agent 1 failed\n',
  ]);
});

test('--workers 2: SIGHUP to the primary makes every worker reload the hostfile', {
  timeout: 30_000,
}, async (t) => {
  const swarm = await startMockSwarm({ count: 2 });
  t.after(() => swarm.close());
  const [first, second] = swarm.endpoints;
  const hostfile = writeHostfile(t, `127.0.0.1\t${first!.port}\n`);
  const proxy = spawnProxy(t, [
    '--workers',
    '2',
    '--hostfile',
    hostfile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--no-watch',
    '--health-interval',
    '0',
  ]);
  await proxy.waitForLine(/Proxy started/);
  writeFileSync(hostfile, `127.0.0.1\t${second!.port}\n127.0.0.1\t${first!.port}\n`);
  proxy.child.kill('SIGHUP');
  await proxy.waitForLine(/Received SIGHUP: reloading the hostfile in 2 workers$/);
  await proxy.waitForLine(/\[worker 1\/2\] Reloaded hostfile — 2 agent\(s\)/);
  await proxy.waitForLine(/\[worker 2\/2\] Reloaded hostfile — 2 agent\(s\)/);
  proxy.child.kill('SIGTERM');
  assert.equal(await proxy.exited, 0);
});

test('--workers 2 honours --unix, --token auto, --allow-host, --allow-origin and --pid-file in every worker', {
  timeout: 30_000,
}, async (t) => {
  const swarm = await startMockSwarm({ count: 2 });
  t.after(() => swarm.close());
  const hostfile = writeHostfile(t, swarm.hostfileText);
  const directory = temporaryDirectory(t);
  const socketPath = join(directory, 'proxy.sock');
  const tokenFile = join(directory, 'proxy-token');
  const pidFile = join(directory, 'proxy.pid');
  const origin = 'https://notebooks.example.org';
  const proxy = spawnProxy(t, [
    '--workers',
    '2',
    '--hostfile',
    hostfile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--unix',
    socketPath,
    '--token',
    'auto',
    '--token-file',
    tokenFile,
    '--allow-host',
    'gateway.example',
    '--allow-origin',
    origin,
    '--pid-file',
    pidFile,
  ]);
  const started = await proxy.waitForLine(/Proxy started/);
  const port = new RegExp(
    `listening on 127\\.0\\.0\\.1:(\\d+) and unix:${socketPath} with 2 agent\\(s\\) \\(2 worker processes\\)$`,
  ).exec(started)?.[1];
  assert.ok(port, started);
  await proxy.waitForLine(new RegExp(`Proxy pid ${proxy.child.pid} serving hostfile`));
  assert.equal(readFileSync(pidFile, 'utf8'), `${proxy.child.pid}\n`);
  assert.equal(statSync(socketPath).mode & 0o777, 0o600);
  // One token for all: the primary's, generated once.
  await proxy.waitForLine(/New proxy token written to/);
  assert.equal(proxy.stderrLines.filter((line) => /proxy token/i.test(line)).length, 1);
  const token = readFileSync(tokenFile, 'utf8').trim();
  const url = `http://127.0.0.1:${port}`;
  const bearer: [string, string] = ['Proxy-Authorization', `Bearer ${token}`];

  // New connections go round-robin: keep asking until both workers have answered.
  const workers = new Set<number>();
  for (let attempt = 0; attempt < 40 && workers.size < 2; attempt++) {
    assert.equal((await send(url, '/status')).status, 401);
    assert.equal(
      (await send(url, '/status', { headers: [['Host', 'attacker.example'], bearer] })).status,
      403,
    );
    const gateway = await send(url, '/status', { headers: [['Host', 'gateway.example'], bearer] });
    assert.equal(gateway.status, 200);
    const cors = await send(url, '/status', { headers: [['Origin', origin], bearer] });
    assert.equal(cors.headers['access-control-allow-origin'], origin);
    // Connections alternate between the workers: read the worker from two of them.
    workers.add(JSON.parse(gateway.text).worker.index);
    workers.add(JSON.parse(cors.text).worker.index);
  }
  assert.deepEqual([...workers].sort(), [1, 2]);
  const overSocket = await execFileAsync('curl', [
    '--silent',
    '--fail',
    '--unix-socket',
    socketPath,
    '-H',
    `Proxy-Authorization: Bearer ${token}`,
    'http://localhost/agent/1/v1/models',
  ]);
  assert.match(overSocket.stdout, /"object":"list"/);

  await execFileAsync('sh', ['-c', `kill -HUP $(cat ${pidFile})`]);
  await proxy.waitForLine(/\[worker 1\/2\] Reloaded hostfile/);
  await proxy.waitForLine(/\[worker 2\/2\] Reloaded hostfile/);
  proxy.child.kill('SIGTERM');
  assert.equal(await proxy.exited, 0);
  assert.equal(existsSync(pidFile), false);
  assert.equal(existsSync(socketPath), false);
});
