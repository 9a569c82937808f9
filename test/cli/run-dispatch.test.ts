/**
 * `aurora-swarm run` with a dead agent: round-robin fails its share fast (the circuit
 * breaker) and a rerun sends those prompts again; `--dispatch least-loaded` answers all.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { allAbortedAt } from '../pool/dispatch-test-helpers.js';
import { temporaryDirectory, writeHostfile } from '../proxy/proxy-test-helpers.js';
import { readJsonLines, scriptedIo, writePrompts } from './cli-test-helpers.js';

describe('aurora-swarm run and dead agents', () => {
  test("round-robin: the dead agent's prompts fail as unavailable; a rerun retries them", async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const dead = swarm.agents[1]!;
    await dead.stop();
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = writePrompts(directory, 40);
    const out = join(directory, 'results.jsonl');
    const args = ['run', '-f', hostfile, '-i', prompts, '-o', out, '--concurrency', '1'];
    const first = scriptedIo();
    assert.equal(await runAuroraSwarm(args, first.io), 1);
    const records = readJsonLines(out);
    assert.equal(records.length, 40);
    const failed = records.filter((record) => record.success === false);
    assert.equal(failed.length, 20);
    assert.ok(failed.every((record) => record.agent === 1));
    const unavailable = failed.filter((record) => record.failure_kind === 'unavailable');
    assert.ok(unavailable.length >= 18, `${unavailable.length} unavailable`);
    assert.match(
      first.stdout(),
      /unavailable +\d+ +e\.g\. agent 1 at 127\.0\.0\.1:\d+ is unavailable/,
    );
    assert.match(first.stdout(), /rerun the same command to retry the 20 failed prompt\(s\)/);
    // The agent is back: a rerun sends exactly the 20 failed prompts again.
    await dead.start();
    const rerun = scriptedIo();
    assert.equal(await runAuroraSwarm(args, rerun.io), 0);
    assert.match(rerun.stderr(), /20 failed earlier \(sent again\)/);
    const after = readJsonLines(out);
    assert.equal(after.length, 40);
    assert.ok(after.every((record) => record.success === true));
    // Round-robin over the rerun's own prompts: the revived agent takes half of them.
    assert.equal(dead.stats.completed, 10);
  });

  test('--dispatch least-loaded: every prompt answered by the live agents', async (t) => {
    const swarm = await startMockSwarm({ count: 5 });
    t.after(() => swarm.close());
    await swarm.agents[2]!.stop();
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = writePrompts(directory, 200);
    const out = join(directory, 'results.jsonl');
    const run = scriptedIo();
    const exitCode = await runAuroraSwarm(
      ['run', '-f', hostfile, '-i', prompts, '-o', out, '--dispatch', 'least-loaded', '-c', '16'],
      run.io,
    );
    assert.equal(exitCode, 0, run.stdout());
    assert.match(run.stderr(), /16 at a time, each to the least-loaded agent;/);
    const records = readJsonLines(out);
    assert.equal(records.length, 200);
    assert.ok(records.every((record) => record.success === true && record.agent !== 2));
  });

  test("--dispatch least-loaded at the default concurrency: a stalled agent's prompts are hedged to the others", async (t) => {
    const swarm = await startMockSwarm({ count: 4 });
    t.after(() => swarm.close());
    const stalled = swarm.agents[3]!;
    stalled.setBehavior({ failure: 'hang' });
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = writePrompts(directory, 60);
    const out = join(directory, 'results.jsonl');
    const run = scriptedIo();
    const exitCode = await runAuroraSwarm(
      ['run', '-f', hostfile, '-i', prompts, '-o', out, '--dispatch', 'least-loaded'],
      run.io,
    );
    assert.equal(exitCode, 0, run.stdout());
    const records = readJsonLines(out);
    assert.equal(records.length, 60);
    assert.ok(records.every((record) => record.success === true && record.agent !== 3));
    assert.ok(stalled.stats.requests > 0, 'the stalled agent got its share first');
    await allAbortedAt(stalled);
  });

  test('a bad --dispatch is one line and exit 2, nothing sent', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = writePrompts(directory, 2);
    const run = scriptedIo();
    const exitCode = await runAuroraSwarm(
      [
        'run',
        '-f',
        hostfile,
        '-i',
        prompts,
        '-o',
        join(directory, 'r.jsonl'),
        '--dispatch',
        'fastest',
      ],
      run.io,
    );
    assert.equal(exitCode, 2);
    assert.deepEqual(run.stderrLines(), [
      "aurora-swarm run: error: option '--dispatch <policy>' argument 'fastest' is invalid. Allowed choices are round-robin, least-loaded. (see --help)",
    ]);
    assert.equal(swarm.agents[0]!.stats.requests, 0);
  });
});
