/**
 * `aurora-swarm job`, in-process against a real redis-server: bad input is one line and
 * exit 2 with nothing written; submit is idempotent; a worker finishes a job; collect writes
 * run's results format exactly once per prompt; retry-failed and delete.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { lockResultsFile } from '../../src/run/results-lock.js';
import { readJsonLines, scriptedIo } from '../cli/cli-test-helpers.js';
import { temporaryDirectory, writeHostfile } from '../proxy/proxy-test-helpers.js';
import { readStatus, waitUntil, writeJobPrompts } from './job-test-helpers.js';
import { skipWithoutRedis, startRedis } from './redis-test-helpers.js';

const SAFETY = { timeout: 120_000 };

async function job(argv: string[], env: Record<string, string> = {}) {
  const io = scriptedIo(env);
  const exitCode = await runAuroraSwarm(['job', ...argv], io.io);
  return { exitCode, stdout: io.stdout(), stderr: io.stderr(), lines: io.stderrLines() };
}

describe('aurora-swarm job, in-process', { skip: skipWithoutRedis(), concurrency: true }, () => {
  test('--help of job and of each subcommand, with examples', async () => {
    for (const name of ['submit', 'work', 'status', 'collect', 'retry-failed', 'delete']) {
      const help = await job([name, '--help']);
      assert.equal(help.exitCode, 0, name);
      assert.match(help.stdout, new RegExp(`^Usage: aurora-swarm job ${name} `));
      assert.match(help.stdout, /Examples:\n {2}\$ aurora-swarm job /);
      assert.match(help.stdout, /--redis <url>/);
    }
    const root = await job(['--help']);
    assert.match(root.stdout, /^Usage: aurora-swarm job /);
    assert.match(root.stdout, /Examples:\n {2}\$ /);
    const program = scriptedIo();
    await runAuroraSwarm(['--help'], program.io);
    assert.match(program.stdout(), /^ {2}job\b/m);
  });

  test('bad Redis input: one line, exit 2, nothing written', SAFETY, async (t) => {
    const redis = await startRedis(t, { password: 'right-password' });
    const directory = temporaryDirectory(t);
    const prompts = writeJobPrompts(directory, 3);
    const out = join(directory, 'out.jsonl');
    const refused = await startRedis(t);
    await refused.kill();
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [
        ['status', '--redis', 'http://127.0.0.1:6379', '--job', 'a'],
        /bad Redis URL "http:\/\/127\.0\.0\.1:6379": expected redis:\/\//,
      ],
      [['status', '--redis', 'not a url', '--job', 'a'], /bad Redis URL/],
      [
        ['status', '--job', 'a'],
        /no Redis URL: pass one \(--redis redis:\/\/host:6379\) or set AURORA_SWARM_REDIS_URL/,
      ],
      [
        ['status', '--job', 'a'],
        /bad Redis URL "localhost:6379"/,
        { AURORA_SWARM_REDIS_URL: 'localhost:6379' },
      ],
      [
        ['submit', '--redis', refused.url, '--job', 'a', '-i', prompts],
        /cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+: connection refused/,
      ],
      [
        [
          'submit',
          '--redis',
          redis.url.replace('right-password', 'wrong'),
          '--job',
          'a',
          '-i',
          prompts,
        ],
        /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the password \(WRONGPASS/,
      ],
      [
        ['submit', '--redis', redis.bareUrl, '--job', 'a', '-i', prompts],
        /requires a password: put it in the URL/,
      ],
      [
        ['status', '--redis', redis.url, '--job', 'nope'],
        /no job "nope" in Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(create it with: aurora-swarm job submit/,
      ],
      [
        ['work', '--redis', redis.url, '--job', 'nope', '--proxy', 'http://127.0.0.1:9'],
        /no job "nope"/,
      ],
      [['collect', '--redis', redis.url, '--job', 'nope', '--out', out], /no job "nope"/],
      [['status', '--redis', redis.url, '--job', 'bad name'], /job name must be 1 to 100 letters/],
      [
        ['work', '--redis', redis.url, '--job', 'a', '--lease', '0.5', '-f', 'h'],
        /'--lease <seconds>' argument '0\.5' is invalid\. expected at least 1 second/,
      ],
    ];
    for (const [argv, pattern, env] of cases) {
      const result = await job(argv, env);
      assert.equal(result.exitCode, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.equal(result.lines.length, 1, result.stderr);
      assert.match(result.lines[0] ?? '', new RegExp(`^aurora-swarm job ${argv[0]}: error: `));
      assert.match(result.lines[0] ?? '', pattern);
      assert.doesNotMatch(result.stderr, /right-password|wrong@/, 'no password in messages');
      assert.equal(result.stdout, '');
    }
    assert.equal(existsSync(out), false, 'collect wrote nothing');
    // The password can also come from the environment, keeping it out of ps.
    const fromEnv = await job(['submit', '--redis', redis.bareUrl, '--job', 'a', '-i', prompts], {
      AURORA_SWARM_REDIS_PASSWORD: 'right-password',
    });
    assert.equal(fromEnv.exitCode, 0, fromEnv.stderr);
  });

  test(
    'submit: twice adds nothing; a clashing id is refused naming the line, nothing written',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const directory = temporaryDirectory(t);
      const prompts = writeJobPrompts(directory, 10);
      const env = { AURORA_SWARM_REDIS_URL: redis.url };
      const first = await job(['submit', '--job', 'j', '-i', prompts], env);
      assert.equal(first.exitCode, 0, first.stderr);
      assert.match(
        first.stdout,
        /10 prompt\(s\) in .*prompts\.jsonl \(jsonl\): 10 added to job j, 0 already in it; the job has 10 prompt\(s\)/,
      );
      const second = await job(['submit', '--job', 'j', '-i', prompts], env);
      assert.equal(second.exitCode, 0);
      assert.match(second.stdout, /0 added to job j, 10 already in it; the job has 10 prompt\(s\)/);

      const clashing = join(directory, 'other.jsonl');
      writeFileSync(
        clashing,
        [
          '{"id": "new1", "prompt": "a new prompt"}',
          '{"id": "q1", "prompt": "question number 1"}',
          '{"id": "q5", "prompt": "another text for q5"}',
          '{"id": "new2", "prompt": "another new one"}',
          '',
        ].join('\n'),
      );
      const clash = await job(['submit', '--job', 'j', '-i', clashing], env);
      assert.equal(clash.exitCode, 2);
      assert.deepEqual(clash.lines, [
        `aurora-swarm job submit: error: ${clashing}:3: id "q5" is already in job j with another prompt (ids must be unique across the files of a job)`,
      ]);
      const status = await readStatus(redis.url, 'j');
      assert.equal(status.total, 10, 'nothing of the clashing file was added');

      const malformed = join(directory, 'bad.jsonl');
      writeFileSync(malformed, '{"id": 1, "prompt": "fine"}\n{"id": 2, "prompt": 42}\n');
      const bad = await job(['submit', '--job', 'k', '-i', malformed], env);
      assert.equal(bad.exitCode, 2);
      assert.match(bad.lines[0] ?? '', /bad\.jsonl:2: "prompt" must be a string, got 42/);
      const missing = await job(['status', '--job', 'k'], env);
      assert.equal(missing.exitCode, 2, 'a refused submit creates no job');
      writeFileSync(malformed, '\n\n');
      const empty = await job(['submit', '--job', 'k', '-i', malformed], env);
      assert.equal(empty.exitCode, 2);
      assert.match(empty.lines[0] ?? '', /no prompts/);
    },
  );

  test(
    'work, status --json, collect in run format, rerun-safe; a worker on the finished job exits 0 at once',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const swarm = await startMockSwarm({
        count: 3,
        perAgent: (index) => (index === 2 ? { failure: 'status', failureStatus: 500 } : undefined),
      });
      t.after(() => swarm.close());
      const directory = temporaryDirectory(t);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const prompts = join(directory, 'prompts.txt');
      writeFileSync(prompts, 'first\nsecond\n\nthird\nfourth\nfifth\nsixth\n');
      const env = { AURORA_SWARM_REDIS_URL: redis.url };
      assert.equal((await job(['submit', '--job', 'w', '-i', prompts], env)).exitCode, 0);
      const worker = await job(
        [
          'work',
          '--job',
          'w',
          '-f',
          hostfile,
          '--model',
          'meta-llama/Llama-3.1-70B-Instruct',
          '-c',
          '3',
          '--lease',
          '5',
        ],
        env,
      );
      assert.equal(worker.exitCode, 0, worker.stderr);
      assert.match(
        worker.stdout,
        /done: every prompt of the job has a result; this worker recorded 6 result\(s\) \(4 succeeded, 2 failed\)/,
      );
      assert.match(
        worker.stderr,
        /worker \S+ on job w \(0\/6 done\): sending to 3 agent\(s\) of .*hostfile\.txt directly, 3 at a time, lease 5s/,
      );

      const status = await job(['status', '--job', 'w', '--json'], env);
      assert.equal(status.exitCode, 0);
      const json = JSON.parse(status.stdout) as Record<string, unknown>;
      for (const field of [
        'total',
        'done',
        'succeeded',
        'failed',
        'in_flight',
        'queued',
        'workers',
      ]) {
        assert.ok(field in json, field);
      }
      assert.deepEqual(
        [
          json.total,
          json.done,
          json.succeeded,
          json.failed,
          json.in_flight,
          json.queued,
          json.workers,
        ],
        [6, 6, 4, 2, 0, 0, []],
      );
      const human = await job(['status', '--job', 'w'], env);
      assert.match(
        human.stdout,
        /^job w: 6 of 6 prompt\(s\) done \(4 succeeded, 2 failed\), 0 in flight, 0 queued — finished$/m,
      );

      const out = join(directory, 'results.jsonl');
      const collected = await job(['collect', '--job', 'w', '--out', out], env);
      assert.equal(collected.exitCode, 0, collected.stderr);
      assert.match(
        collected.stdout,
        /6 result\(s\) written to .*results\.jsonl; it has 6 of 6 prompt\(s\) \(2 failed\); the job is finished/,
      );
      const records = readJsonLines(out).sort((a, b) => Number(a.id) - Number(b.id));
      assert.deepEqual(
        records.map((record) => [record.id, record.line]),
        [
          [1, 1],
          [2, 2],
          [4, 4],
          [5, 5],
          [6, 6],
          [7, 7],
        ],
      );
      for (const record of records) {
        if (record.success) {
          assert.equal(typeof record.text, 'string');
          assert.equal(typeof record.latency_ms, 'number');
          assert.equal(typeof (record.usage as { total_tokens?: unknown }).total_tokens, 'number');
        } else {
          assert.equal(record.agent, 2);
          assert.equal(record.failure_kind, 'agent-error');
          assert.match(String(record.error), /injected failure on agent 2/);
        }
      }
      const before = readFileSync(out, 'utf8');
      const again = await job(['collect', '--job', 'w', '--out', out], env);
      assert.equal(again.exitCode, 0);
      assert.match(again.stdout, /0 result\(s\) written/);
      assert.equal(readFileSync(out, 'utf8'), before, 'a rerun changes nothing');
      // A collect killed mid-line: the rerun drops the cut line and writes that result again.
      const lines = before.split('\n');
      const cut = `${lines.slice(0, 4).join('\n')}\n${(lines[4] ?? '').slice(0, 25)}`;
      writeFileSync(out, cut);
      const resumed = await job(['collect', '--job', 'w', '--out', out], env);
      assert.equal(resumed.exitCode, 0, resumed.stderr);
      assert.match(resumed.stdout, /2 result\(s\) written .*; it has 6 of 6 prompt\(s\)/);
      assert.equal(readJsonLines(out).length, 6);
      assert.equal(new Set(readJsonLines(out).map((record) => record.id)).size, 6);

      // Finished: a worker exits 0 at once, without even reaching its (dead) proxy.
      const late = await job(['work', '--job', 'w', '--proxy', 'http://127.0.0.1:9'], env);
      assert.equal(late.exitCode, 0, late.stderr);
      assert.deepEqual(late.lines, [
        'aurora-swarm job work: job w is finished (6/6 done): nothing to do',
      ]);
      // ... but its flags are still checked: no swarm, or two, is exit 2 as on a running job.
      const noSwarm = await job(['work', '--job', 'w'], env);
      assert.equal(noSwarm.exitCode, 2, noSwarm.stderr);
      assert.match(
        noSwarm.lines.join('\n'),
        /^aurora-swarm job work: error: no swarm: pass --proxy URL/,
      );
      const both = await job(
        ['work', '--job', 'w', '--proxy', 'http://127.0.0.1:9', '-f', 'h'],
        env,
      );
      assert.equal(both.exitCode, 2, both.stderr);
      assert.match(both.lines.join('\n'), /pass --proxy or --hostfile, not both/);

      // retry-failed: the two failures go back; a worker with a healthy agent 2 redoes them.
      swarm.agents[2]?.setBehavior({ failure: 'none' });
      const retried = await job(['retry-failed', '--job', 'w'], env);
      assert.match(retried.stdout, /2 failed prompt\(s\) of job w put back in the queue/);
      assert.deepEqual((await readStatus(redis.url, 'w')).done, 4);
      const redo = await job(
        [
          'work',
          '--job',
          'w',
          '-f',
          hostfile,
          '--model',
          'meta-llama/Llama-3.1-70B-Instruct',
          '-c',
          '3',
          '--lease',
          '5',
        ],
        env,
      );
      assert.equal(redo.exitCode, 0, redo.stderr);
      assert.match(redo.stdout, /recorded 2 result\(s\) \(2 succeeded, 0 failed\)/);
      const merged = await job(['collect', '--job', 'w', '--out', out], env);
      assert.equal(merged.exitCode, 0);
      const final = readJsonLines(out);
      assert.equal(final.length, 6);
      assert.equal(new Set(final.map((record) => record.id)).size, 6);
      assert.ok(
        final.every((record) => record.success === true),
        'the failures were replaced',
      );
    },
  );

  test(
    "collect obeys run's rules for the results file: refused untouched, exit 2 naming path and reason",
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const directory = temporaryDirectory(t);
      const prompts = writeJobPrompts(directory, 2);
      const env = { AURORA_SWARM_REDIS_URL: redis.url };
      assert.equal((await job(['submit', '--job', 'c', '-i', prompts], env)).exitCode, 0);
      const notes = join(directory, 'notes.txt');
      writeFileSync(notes, 'my notes\nline two\nline three\n');
      // An unfinished last line that is not the start of a result is the user's, not a cut write.
      const typed = join(directory, 'typed.jsonl');
      writeFileSync(
        typed,
        '{"id":"q0","success":true,"agent":0,"line":1,"text":"kept"}\na line the user typed',
      );
      const cases: Array<[string, string]> = [
        [
          notes,
          `${notes} is not a results file of aurora-swarm run (line 1 is not a result record): refusing to touch it; choose another --out`,
        ],
        [
          prompts,
          `${prompts} is not a results file of aurora-swarm run (line 1 is a prompt, not a result): refusing to touch it; choose another --out`,
        ],
        [
          typed,
          `${typed} is not a results file of aurora-swarm run (line 2 is not a result record): refusing to touch it; choose another --out`,
        ],
        [directory, `cannot write results file ${directory}: it is a directory`],
        [
          join(directory, 'nodir', 'r.jsonl'),
          `cannot write results file ${join(directory, 'nodir', 'r.jsonl')}: directory ${join(directory, 'nodir')} does not exist`,
        ],
      ];
      for (const [target, message] of cases) {
        const before =
          existsSync(target) && target !== directory ? readFileSync(target) : undefined;
        const result = await job(['collect', '--job', 'c', '--out', target], env);
        assert.equal(result.exitCode, 2, target);
        assert.deepEqual(result.lines, [`aurora-swarm job collect: error: ${message}`]);
        if (before !== undefined) assert.deepEqual(readFileSync(target), before, 'byte for byte');
        assert.equal(existsSync(`${target}.lock`), false, 'no lock left behind');
      }
    },
  );

  test('work --dispatch least-loaded: a dead agent costs no result', SAFETY, async (t) => {
    const redis = await startRedis(t);
    const swarm = await startMockSwarm({ count: 3 });
    t.after(() => swarm.close());
    await swarm.agents[1]!.stop();
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = writeJobPrompts(directory, 30);
    const env = { AURORA_SWARM_REDIS_URL: redis.url };
    assert.equal((await job(['submit', '--job', 'll', '-i', prompts], env)).exitCode, 0);
    const worker = await job(
      ['work', '--job', 'll', '-f', hostfile, '-c', '4', '--dispatch', 'least-loaded'],
      env,
    );
    assert.equal(worker.exitCode, 0, worker.stderr);
    assert.match(worker.stderr, /4 at a time \(least-loaded\), lease/);
    assert.match(worker.stdout, /this worker recorded 30 result\(s\) \(30 succeeded, 0 failed\)/);
    const bad = await job(['work', '--job', 'll', '-f', hostfile, '--dispatch', 'random'], env);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.lines[0] ?? '', /--dispatch <policy>' argument 'random' is invalid/);
  });

  test(
    "collect takes run's lock: a second collect, or a run, on the same file stops at once with exit 2",
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const directory = temporaryDirectory(t);
      const prompts = writeJobPrompts(directory, 3);
      const env = { AURORA_SWARM_REDIS_URL: redis.url };
      assert.equal((await job(['submit', '--job', 'l', '-i', prompts], env)).exitCode, 0);
      const out = join(directory, 'results.jsonl');
      // Nobody works on the job: a following collect holds the file until it is stopped.
      const follower = scriptedIo(env);
      const following = runAuroraSwarm(
        ['job', 'collect', '--job', 'l', '--out', out, '--follow'],
        follower.io,
      );
      await follower.waitForStderr(/following job l into/);
      await waitUntil(() => existsSync(`${out}.lock`));
      const second = await job(['collect', '--job', 'l', '--out', out], env);
      assert.equal(second.exitCode, 2);
      assert.equal(second.lines.length, 1, second.stderr);
      const line = second.lines[0] ?? '';
      assert.match(
        line,
        /^aurora-swarm job collect: error: another job collect \(pid \d+, started \d\d:\d\d\) is writing /,
      );
      assert.ok(line.includes(`(pid ${process.pid},`), line);
      assert.ok(line.includes(`is writing ${out} (lock ${out}.lock;`), line);
      const run = scriptedIo();
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const hostfile = writeHostfile(t, swarm.hostfileText);
      assert.equal(
        await runAuroraSwarm(['run', '-f', hostfile, '-i', prompts, '-o', out], run.io),
        2,
      );
      assert.match(run.stderr(), /^aurora-swarm run: error: another job collect \(pid /);
      assert.equal(swarm.agents[0]?.stats.requests, 0, 'the run sent nothing');
      follower.signal('SIGINT');
      assert.equal(await following, 130, follower.stderr());
      assert.equal(existsSync(`${out}.lock`), false, 'given back');
      // A run's lock (as `run` takes it) keeps a collect out the same way.
      const runLock = await lockResultsFile(out);
      const blocked = await job(['collect', '--job', 'l', '--out', out], env);
      assert.equal(blocked.exitCode, 2);
      assert.match(blocked.lines[0] ?? '', /error: another run \(pid \d+, started /);
      await runLock.release();
      // Once it is given back, a collect works.
      assert.equal((await job(['collect', '--job', 'l', '--out', out], env)).exitCode, 0);
    },
  );

  test('delete needs --yes; afterwards the job is gone', SAFETY, async (t) => {
    const redis = await startRedis(t);
    const directory = temporaryDirectory(t);
    const env = { AURORA_SWARM_REDIS_URL: redis.url };
    assert.equal(
      (await job(['submit', '--job', 'd', '-i', writeJobPrompts(directory, 4)], env)).exitCode,
      0,
    );
    const refused = await job(['delete', '--job', 'd'], env);
    assert.equal(refused.exitCode, 2);
    assert.match(
      refused.lines[0] ?? '',
      /this deletes job d \(4 prompt\(s\), 0 result\(s\)\) from Redis; results not collected are lost: add --yes/,
    );
    assert.equal((await readStatus(redis.url, 'd')).total, 4);
    const deleted = await job(['delete', '--job', 'd', '--yes'], env);
    assert.equal(deleted.exitCode, 0);
    assert.match(deleted.stdout, /job d deleted/);
    assert.equal((await job(['status', '--job', 'd'], env)).exitCode, 2);
    const client = await import('../../src/job/redis-job.js');
    const probe = await client.RedisJob.open({ url: redis.url, name: 'd', env: {} });
    t.after(() => probe.close());
    assert.deepEqual(await probe.connection.client.keys('aurora-swarm:job:*'), []);
  });
});
