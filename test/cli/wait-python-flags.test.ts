/**
 * `aurora-swarm wait` as a drop-in for the Python original's scripts/wait_for_vllm_servers.py
 * (its flags, with their meaning), plus what a job script needs: --output checked before the
 * wait, every probe logged at debug level, the agents never ready listed with their last
 * error, and no Node warning however many agents are probed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import {
  MAIN_BIN,
  spawnProxy,
  temporaryDirectory,
  writeHostfile,
} from '../proxy/proxy-test-helpers.js';
import { scriptedIo } from './cli-test-helpers.js';

const SAFETY = { timeout: 60_000 };

describe('aurora-swarm wait, the Python script flags and job-script safety', {
  concurrency: true,
}, () => {
  test('25 agents probed by the real bin: no Node warning on stderr', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 25 });
    t.after(() => swarm.close());
    await swarm.agents[7]?.stop();
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const output = join(temporaryDirectory(t), 'ready.txt');
    const wait = spawnProxy(
      t,
      ['wait', '-f', hostfile, '--min-hosts', '24', '--interval', '0.05', '-o', output],
      { bin: MAIN_BIN },
    );
    assert.equal(await wait.exited, 0, wait.stderrLines.join('\n'));
    const stderr = wait.stderrLines.join('\n');
    assert.doesNotMatch(stderr, /Warning/);
    assert.equal(readFileSync(output, 'utf8').trim().split('\n').length, 24);
  });

  test('--output that cannot be written fails at once (exit 2), before any probe', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const output = join(temporaryDirectory(t), 'missing', 'ready.txt');
    const run = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['wait', '-f', hostfile, '--timeout', '1800', '-o', output], run.io),
      2,
    );
    assert.deepEqual(run.stderrLines(), [
      `aurora-swarm wait: error: cannot write --output ${output}: directory ${join(output, '..')} does not exist`,
    ]);
    assert.equal(swarm.agents[0]?.stats.requests, 0);
  });

  test("the Python script's flags: waits for a hostfile written 1.5 s later", SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 3, tags: (index) => ({ node: `n${index}` }) });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const hostfile = join(directory, 'job_hostfile.txt');
    const output = join(directory, 'ready.txt');
    const run = scriptedIo();
    const exited = runAuroraSwarm(
      [
        'wait',
        '--hostfile',
        hostfile,
        '--hostfile-timeout',
        '30',
        '--health-timeout',
        '20',
        '--min-hosts',
        '3',
        '--interval',
        '0.2',
        '--output-hostfile',
        output,
      ],
      run.io,
    );
    await run.waitForStderr(
      /waiting for hostfile .*job_hostfile\.txt \(it does not exist\) for up to 30s/,
    );
    // The batch job starts (the scenario, not a synchronisation): its hostfile appears later.
    setTimeout(() => writeFileSync(hostfile, swarm.hostfileText), 1500);
    assert.equal(await exited, 0, run.stderr());
    assert.equal(readFileSync(output, 'utf8'), swarm.hostfileText, 'hostfile order, tags kept');
    assert.match(run.stderr(), /hostfile .* found with 3 agent\(s\)/);
    assert.match(
      run.stderrLines().at(-1) ?? '',
      /3 of 3 agent\(s\) ready \(target 3\); written to /,
    );

    // --quiet: only the result.
    const quiet = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['wait', '-f', hostfile, '--quiet', '--health-timeout', '5'], quiet.io),
      0,
    );
    assert.deepEqual(quiet.stderrLines().length, 1, quiet.stderr());
  });

  test(
    '--health-timeout keeps waiting for all agents, then lists the missing ones with their last error',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 3 });
      t.after(() => swarm.close());
      await swarm.agents[2]?.stop();
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const run = scriptedIo();
      const args = ['wait', '-f', hostfile, '--interval', '0.05', '--log-level', 'debug'];
      assert.equal(
        await runAuroraSwarm([...args, '--health-timeout', '2', '--min-hosts', '1'], run.io),
        0,
      );
      const stderr = run.stderr();
      const dead = `127.0.0.1:${swarm.agents[2]?.port}`;
      assert.match(stderr, /OK http:\/\/127\.0\.0\.1:\d+\/health \(HTTP 200\)/);
      assert.match(stderr, new RegExp(`FAIL http://${dead}/health \\(connection refused\\)`));
      assert.match(stderr, new RegExp(`not ready: agent 2 ${dead}: connection refused`));
      // More than one round: with --health-timeout the minimum does not end the wait.
      assert.ok((stderr.match(/FAIL http/g)?.length ?? 0) > 1);
      assert.equal(run.stdout().trim().split('\n').length, 2);

      // Without it, --min-hosts is a target: met in the first round, no second probe.
      const target = scriptedIo();
      assert.equal(await runAuroraSwarm([...args, '--min-hosts', '1'], target.io), 0);
      assert.equal(target.stderr().match(/FAIL http/g)?.length, 1);
    },
  );

  test('a missing hostfile without --hostfile-timeout: exit 2 at once, naming the flag', async (t) => {
    const hostfile = join(temporaryDirectory(t), 'job_hostfile.txt');
    const run = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['wait', '--hostfile', hostfile, '--health-timeout', '1800'], run.io),
      2,
    );
    assert.deepEqual(run.stderrLines(), [
      `aurora-swarm wait: error: cannot read hostfile ${hostfile}: no such file (to wait for a batch job to write it, add --hostfile-timeout SECONDS)`,
    ]);
  });

  test(
    'a hostfile that never appears: exit 1 after --hostfile-timeout, nothing written',
    SAFETY,
    async (t) => {
      const directory = temporaryDirectory(t);
      const hostfile = join(directory, 'never.txt');
      const output = join(directory, 'ready.txt');
      const run = scriptedIo();
      assert.equal(
        await runAuroraSwarm(
          ['wait', '-f', hostfile, '--hostfile-timeout', '0.3', '--interval', '0.1', '-o', output],
          run.io,
        ),
        1,
      );
      assert.match(
        run.stderrLines().at(-1) ?? '',
        /^aurora-swarm wait: error: hostfile .*never\.txt did not appear within 0.3s \(--hostfile-timeout\): it does not exist$/,
      );
      assert.equal(existsSync(output), false);
    },
  );
});
