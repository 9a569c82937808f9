/**
 * A proxy outage is not a prompt failure: the real proxy process killed and restarted on the
 * same port in the middle of a run with hundreds of prompts in flight and queued; the same in
 * direct mode with every agent unreachable; an outage longer than --outage-timeout; and the
 * opposite case, one agent failing behind a healthy proxy, which stays a per-prompt failure.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import {
  MAIN_BIN,
  proxyUrlOf,
  spawnProxy,
  temporaryDirectory,
  writeHostfile,
} from '../proxy/proxy-test-helpers.js';
import {
  readJsonLines,
  scriptedIo,
  startStallingSwarm,
  startVanishingSwarm,
  writePrompts,
} from './cli-test-helpers.js';

const SAFETY = { timeout: 120_000 };

/** Every id of `count` prompts exactly once, each a success. */
function assertCompleteWithoutFailures(out: string, count: number): void {
  const records = readJsonLines(out);
  assert.equal(records.length, count, 'one line per prompt');
  assert.equal(new Set(records.map((record) => record.id)).size, count, 'no id twice');
  const failures = records.filter((record) => record.success !== true);
  assert.deepEqual(failures, [], 'no failure written');
}

/**
 * The proxy killed while 256 calls are held by the agents and 244 queued, down for 3 s,
 * then restarted where it was: the same TCP port, or the same `--unix` socket.
 */
async function killAndRestartTheProxy(t: TestContext, listener: 'port' | 'socket') {
  const { swarm, release } = await startStallingSwarm(t, 100);
  const directory = temporaryDirectory(t);
  const hostfile = writeHostfile(t, swarm.hostfileText);
  const socket = join(directory, 'proxy.sock');
  const proxyArgs =
    listener === 'port'
      ? ['-f', hostfile, '--host', '127.0.0.1']
      : ['-f', hostfile, '--unix', socket];
  const startProxy = async (args: string[]) => {
    const proxy = spawnProxy(t, args);
    if (listener === 'port') return { proxy, url: await proxyUrlOf(proxy) };
    await proxy.waitForLine(/Proxy started/);
    return { proxy, url: `unix:${socket}` };
  };
  const first = await startProxy(listener === 'port' ? [...proxyArgs, '-p', '0'] : proxyArgs);
  const proxyUrl = first.url;
  const restartArgs =
    listener === 'port' ? [...proxyArgs, '-p', new URL(proxyUrl).port] : proxyArgs;
  const prompts = writePrompts(directory, 600);
  const out = join(directory, 'results.jsonl');
  const run = spawnProxy(
    t,
    [
      'run',
      '--proxy',
      proxyUrl,
      '-i',
      prompts,
      '-o',
      out,
      '-c',
      '256',
      '--progress-interval',
      '1',
      '--outage-timeout',
      '60',
    ],
    { bin: MAIN_BIN },
  );
  // 100 answered, then 256 calls held by the agents and 244 queued: the proxy dies now.
  await run.waitForLine(/^aurora-swarm run: 100\/600 done/);
  first.proxy.child.kill('SIGKILL');
  await first.proxy.exited;
  release();
  await run.waitForLine(/the proxy at .* is unreachable: waiting, retrying every 1s to 10s/);
  await delay(3000); // the outage itself: the tunnel is down for a few seconds
  const restarted = await startProxy(restartArgs);
  assert.equal(await run.exited, 0, run.stderrLines.join('\n'));
  const stderr = run.stderrLines.join('\n');
  assert.match(
    stderr,
    /the proxy at .* answers again after \d+s: carrying on \(\d+ prompt\(s\) held back are sent again\)/,
  );
  assert.equal(stderr.match(/is unreachable/g)?.length, 1, 'one line per outage');
  assertCompleteWithoutFailures(out, 600);
  assert.match(run.stdout(), /600 succeeded, 0 failed/);
  restarted.proxy.child.kill('SIGTERM');
  await restarted.proxy.exited;
}

describe('run waits out outages', { concurrency: true }, () => {
  test(
    'the proxy killed for 3 s and restarted on the same port: every id once, 0 failures',
    SAFETY,
    (t) => killAndRestartTheProxy(t, 'port'),
  );

  test(
    'the same through a --unix socket proxy (its outage probe goes over the socket too)',
    SAFETY,
    (t) => killAndRestartTheProxy(t, 'socket'),
  );

  test(
    'past --outage-timeout the run stops as interrupted (130) and a rerun resumes',
    SAFETY,
    async (t) => {
      const { swarm, release } = await startStallingSwarm(t, 20);
      const directory = temporaryDirectory(t);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const proxy = spawnProxy(t, ['-f', hostfile, '--host', '127.0.0.1', '-p', '0']);
      const proxyUrl = await proxyUrlOf(proxy);
      const prompts = writePrompts(directory, 100);
      const out = join(directory, 'results.jsonl');
      const args = ['run', '--proxy', proxyUrl, '-i', prompts, '-o', out, '-c', '16'];
      const run = spawnProxy(t, [...args, '--outage-timeout', '2', '--progress-interval', '1'], {
        bin: MAIN_BIN,
      });
      await run.waitForLine(/^aurora-swarm run: 20\/100 done/);
      proxy.child.kill('SIGKILL');
      assert.equal(await run.exited, 130);
      assert.ok(
        run.stderrLines.some((line) =>
          /has been unreachable for \ds \(--outage-timeout\): stopping; rerun the same command to resume/.test(
            line,
          ),
        ),
        run.stderrLines.join('\n'),
      );
      assert.match(run.stdout(), /interrupted: 20 of 100/);
      const kept = readJsonLines(out);
      assert.equal(kept.length, 20);
      assert.ok(
        kept.every((record) => record.success === true),
        'nothing written as failed',
      );

      release();
      const again = spawnProxy(t, ['-f', hostfile, '--host', '127.0.0.1', '-p', '0']);
      const rerun = spawnProxy(
        t,
        ['run', '--proxy', await proxyUrlOf(again), '-i', prompts, '-o', out],
        {
          bin: MAIN_BIN,
        },
      );
      assert.equal(await rerun.exited, 0, rerun.stderrLines.join('\n'));
      assertCompleteWithoutFailures(out, 100);
    },
  );

  test('direct mode: every agent unreachable is an outage too', SAFETY, async (t) => {
    const { swarm, restore } = await startVanishingSwarm(t, 30);
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = writePrompts(directory, 200);
    const out = join(directory, 'results.jsonl');
    const run = scriptedIo();
    const exited = runAuroraSwarm(
      [
        'run',
        '-f',
        hostfile,
        '-i',
        prompts,
        '-o',
        out,
        '-c',
        '32',
        '--model',
        'meta-llama/Llama-3.1-70B-Instruct',
      ],
      run.io,
    );
    await run.waitForStderr(/none of the agents can be reached: waiting/);
    restore();
    assert.equal(await exited, 0, run.stderr());
    assert.match(run.stderr(), /the agents answer again after/);
    assertCompleteWithoutFailures(out, 200);
  });

  test(
    'one dead agent behind a healthy proxy: its prompts are failures, no outage',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 3 });
      t.after(() => swarm.close());
      await swarm.agents[1]?.stop();
      const directory = temporaryDirectory(t);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const proxy = spawnProxy(t, ['-f', hostfile, '--host', '127.0.0.1', '-p', '0']);
      const proxyUrl = await proxyUrlOf(proxy);
      const prompts = writePrompts(directory, 30);
      const out = join(directory, 'results.jsonl');
      const run = scriptedIo();
      assert.equal(
        await runAuroraSwarm(
          [
            'run',
            '--proxy',
            proxyUrl,
            '-i',
            prompts,
            '-o',
            out,
            '--model',
            'meta-llama/Llama-3.1-70B-Instruct',
          ],
          run.io,
        ),
        1,
      );
      assert.doesNotMatch(run.stderr(), /unreachable|can be reached/);
      const records = readJsonLines(out);
      assert.equal(records.length, 30);
      const failed = records.filter((record) => record.success === false);
      assert.equal(failed.length, 10);
      for (const record of failed) {
        assert.equal(record.agent, 1);
        assert.equal(record.failure_kind, 'connect');
        assert.match(String(record.error), /^cannot connect to 127\.0\.0\.1:\d+ \(HTTP 502/);
      }
      assert.match(run.stdout(), /connect\s+10\s+e\.g\. cannot connect/);
    },
  );
});
