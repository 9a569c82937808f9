/**
 * `aurora-swarm run`: input validation and failures in-process; kill -9 / resume and
 * SIGINT with the built bin against simulated agents behind the real proxy process.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { type MockSwarm, startMockSwarm } from '../../src/mock/mock-swarm.js';
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
  waitForLineCount,
  writePrompts,
} from './cli-test-helpers.js';

const SAFETY = { timeout: 180_000 };

function chatRequests(swarm: MockSwarm): number {
  return swarm.agents.reduce(
    (total, agent) =>
      total + agent.requests.filter((request) => request.url === '/v1/chat/completions').length,
    0,
  );
}

/** Every id of `count` prompts exactly once, each a success. */
function assertComplete(out: string, count: number): void {
  const records = readJsonLines(out);
  assert.equal(records.length, count, 'one line per prompt');
  const ids = new Set(records.map((record) => record.id));
  assert.equal(ids.size, count, 'no id twice');
  for (let index = 0; index < count; index++) assert.ok(ids.has(`q${index}`), `q${index}`);
  assert.ok(records.every((record) => record.success === true));
  assert.ok(readFileSync(out, 'utf8').endsWith('\n'));
}

const SERVED_MODEL = 'meta-llama/Llama-3.1-70B-Instruct';

describe('aurora-swarm run, in-process', { concurrency: true }, () => {
  test('a malformed prompts file fails before anything is sent (exit 2, file and line)', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = join(directory, 'prompts.jsonl');
    writeFileSync(prompts, '{"id": 1, "prompt": "fine"}\n{"id": 2, "prompt": 42}\n');
    const out = join(directory, 'out.jsonl');
    const run = scriptedIo();
    const exitCode = await runAuroraSwarm(
      ['run', '-f', hostfile, '-i', prompts, '-o', out],
      run.io,
    );
    assert.equal(exitCode, 2);
    assert.deepEqual(run.stderrLines(), [
      `aurora-swarm run: error: ${prompts}:2: "prompt" must be a string, got 42`,
    ]);
    assert.equal(existsSync(out), false);
    assert.equal(swarm.agents[0]?.stats.requests, 0);

    writeFileSync(prompts, '{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n');
    const duplicate = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['run', '-f', hostfile, '-i', prompts, '-o', out], duplicate.io),
      2,
    );
    assert.match(duplicate.stderr(), /:2: duplicate id "a" \(first on line 1\)/);
  });

  test('missing files and missing agents are one line and exit 2', async (t) => {
    const directory = temporaryDirectory(t);
    const prompts = writePrompts(directory, 3);
    const out = join(directory, 'out.jsonl');
    const hostfile = writeHostfile(t, '127.0.0.1\t8000\n');
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [
        ['-f', hostfile, '-i', join(directory, 'nope.jsonl'), '-o', out],
        /cannot read prompts file .*nope\.jsonl: no such file or directory$/,
      ],
      [
        ['-f', hostfile, '-i', directory, '-o', out],
        /cannot read prompts file .*: it is a directory$/,
      ],
      [
        ['-f', join(directory, 'nope.txt'), '-i', prompts, '-o', out],
        /cannot read hostfile .*nope\.txt: no such file/,
      ],
      [['-f', directory, '-i', prompts, '-o', out], /cannot read hostfile .*: it is a directory$/],
      [
        ['-i', prompts, '-o', out],
        /no agents: pass --hostfile \(or set AURORA_SWARM_HOSTFILE\), or --proxy/,
      ],
      [['-f', hostfile, '-i', prompts], /required option '-o, --out <path>' not specified/],
      [
        ['-f', hostfile, '-i', prompts, '-o', out, '--concurrency', '0'],
        /'-c, --concurrency <count>' argument '0' is invalid\. expected a positive integer/,
      ],
      [
        ['-f', hostfile, '-i', prompts, '-o', out, '--proxy', 'localhost:9090'],
        /--proxy <url>' argument 'localhost:9090' is invalid/,
      ],
      [
        ['-f', hostfile, '-i', prompts, '-o', out],
        /AURORA_SWARM_PROXY_URL="nonsense"/,
        { AURORA_SWARM_PROXY_URL: 'nonsense' },
      ],
    ];
    for (const [args, pattern, env] of cases) {
      const run = scriptedIo(env);
      assert.equal(await runAuroraSwarm(['run', ...args], run.io), 2, args.join(' '));
      const lines = run.stderrLines();
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0] ?? '', /^aurora-swarm run: error: /);
      assert.match(lines[0] ?? '', pattern);
    }
  });

  test(
    'a partly failing swarm: exit 1, failures recorded, a rerun retries only those',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({
        count: 3,
        perAgent: (index) => (index === 1 ? { failure: 'status', failureStatus: 500 } : undefined),
      });
      t.after(() => swarm.close());
      const directory = temporaryDirectory(t);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const prompts = writePrompts(directory, 30);
      const out = join(directory, 'out.jsonl');
      const args = ['run', '-f', hostfile, '-i', prompts, '-o', out, '--model', SERVED_MODEL];
      const first = scriptedIo();
      assert.equal(await runAuroraSwarm(args, first.io), 1);
      const records = readJsonLines(out);
      assert.equal(records.length, 30);
      const failed = records.filter((record) => record.success === false);
      assert.equal(failed.length, 10);
      for (const record of failed) {
        assert.equal(record.agent, 1);
        assert.equal(record.failure_kind, 'agent-error');
        assert.match(String(record.error), /injected failure on agent 1/);
      }
      assert.match(first.stdout(), /20 succeeded, 10 failed/);
      assert.match(first.stdout(), /agent-error\s+10\s+e\.g\. .*injected failure/);
      assert.match(first.stdout(), /rerun the same command to retry the 10 failed prompt\(s\)/);
      assert.match(
        first.stderrLines().at(-1) ?? '',
        /^aurora-swarm run: 30\/30 done \(20 ok, 10 failed\)/,
      );

      swarm.agents[1]?.setBehavior({ failure: 'none' });
      const before = chatRequests(swarm);
      const second = scriptedIo();
      assert.equal(await runAuroraSwarm(args, second.io), 0);
      assert.equal(chatRequests(swarm) - before, 10, 'only the failed prompts are sent again');
      assert.match(
        second.stderr(),
        /20 done by an earlier run \(skipped\); 10 failed earlier \(sent again\)/,
      );
      const final = readJsonLines(out);
      assert.equal(final.length, 30);
      assert.equal(new Set(final.map((record) => record.id)).size, 30);
      assert.ok(final.every((record) => record.success === true));

      const third = scriptedIo();
      assert.equal(await runAuroraSwarm(args, third.io), 0);
      assert.equal(chatRequests(swarm) - before, 10, 'a finished run sends nothing');
    },
  );

  test('--no-retry-failed keeps earlier failures and still exits 1', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2, behavior: { failure: 'status' } });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = writePrompts(directory, 4);
    const out = join(directory, 'out.jsonl');
    const args = ['run', '-f', hostfile, '-i', prompts, '-o', out, '--model', SERVED_MODEL];
    assert.equal(await runAuroraSwarm(args, scriptedIo().io), 1);
    for (const agent of swarm.agents) agent.setBehavior({ failure: 'none' });
    const before = chatRequests(swarm);
    const rerun = scriptedIo();
    assert.equal(await runAuroraSwarm([...args, '--no-retry-failed'], rerun.io), 1);
    assert.equal(chatRequests(swarm), before);
    assert.match(rerun.stdout(), /4 of 4 prompt\(s\) have a result \(4 failed\)/);
  });

  test('plain text prompts; the results carry id, agent, text, latency and usage', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = join(directory, 'prompts.txt');
    writeFileSync(prompts, 'first question\n\nsecond question\n');
    const out = join(directory, 'out.jsonl');
    const run = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['run', '-f', hostfile, '-i', prompts, '-o', out], run.io),
      0,
    );
    const records = readJsonLines(out).sort((a, b) => Number(a.id) - Number(b.id));
    assert.deepEqual(
      records.map((record) => [record.id, record.line, record.agent, record.success]),
      [
        [1, 1, 0, true],
        [3, 3, 1, true],
      ],
    );
    assert.match(String(records[1]?.text), /^Agent 1 .*second question/);
    assert.equal(typeof records[0]?.latency_ms, 'number');
    assert.equal(typeof (records[0]?.usage as { total_tokens?: number })?.total_tokens, 'number');
    assert.match(run.stderr(), /2 prompt\(s\) in .*prompts\.txt \(text\)/);
  });
});

describe('aurora-swarm run progress', () => {
  test('a live bar on a terminal (done, ok, failed, rate, ETA), no colour with NO_COLOR', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = writePrompts(directory, 6);
    for (const [env, coloured] of [
      [{}, true],
      [{ NO_COLOR: '1' }, false],
    ] as const) {
      const out = join(directory, `out-${coloured}.jsonl`);
      const run = scriptedIo(env, { terminal: true });
      assert.equal(
        await runAuroraSwarm(['run', '-f', hostfile, '-i', prompts, '-o', out], run.io),
        0,
      );
      const stderr = run.stderr();
      assert.match(stderr, /6\/6 \| \S*6\S* ok \| 0 failed \| [\d.]+\/s \| ETA 0s/);
      assert.ok(stderr.includes('\u2588'), 'the bar is drawn');
      assert.equal(run.stdout().includes(`${String.fromCharCode(27)}[32m`), coloured);
    }
  });
});

describe('aurora-swarm run, the built bin through the real proxy', { concurrency: true }, () => {
  test(
    '2,000 prompts, killed with SIGKILL part-way, rerun: every id exactly once with a result',
    SAFETY,
    async (t) => {
      const { swarm, release } = await startStallingSwarm(t, 300);
      const directory = temporaryDirectory(t);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const proxy = spawnProxy(t, ['-f', hostfile, '--host', '127.0.0.1', '-p', '0']);
      const proxyUrl = await proxyUrlOf(proxy);
      const prompts = writePrompts(directory, 2000);
      const out = join(directory, 'results.jsonl');
      const args = ['run', '--proxy', proxyUrl, '-i', prompts, '-o', out, '-c', '64'];

      const first = spawnProxy(t, args, { bin: MAIN_BIN });
      await waitForLineCount(out, 200);
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, null);
      const partial = readJsonLines(out).length;
      assert.ok(partial >= 200 && partial < 2000, `${partial} results before the kill`);

      release();
      const second = spawnProxy(t, args, { bin: MAIN_BIN });
      assert.equal(await second.exited, 0, second.stderrLines.join('\n'));
      assert.match(second.stderrLines.join('\n'), /done by an earlier run \(skipped\)/);
      assertComplete(out, 2000);
      assert.match(second.stdout(), /2000 of 2000 prompt\(s\) have a result/);
      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0);
    },
  );

  test(
    'SIGINT stops issuing, drops nothing, prints the summary and exits 130; a rerun finishes',
    SAFETY,
    async (t) => {
      const { swarm, release } = await startStallingSwarm(t, 60);
      const directory = temporaryDirectory(t);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const prompts = writePrompts(directory, 200);
      const out = join(directory, 'results.jsonl');
      const args = ['run', '-f', hostfile, '-i', prompts, '-o', out, '-c', '16'];
      const first = spawnProxy(t, args, { bin: MAIN_BIN });
      await waitForLineCount(out, 40);
      // 200 prompts, 16 at a time: calls are in flight (answered or hung) when it arrives.
      first.child.kill('SIGINT');
      assert.equal(await first.exited, 130);
      assert.match(first.stdout(), /interrupted/);
      assert.match(first.stdout(), /rerun the same command to resume/);
      assert.ok(first.stderrLines.some((line) => /SIGINT: stopping/.test(line)));
      const kept = readJsonLines(out);
      assert.ok(kept.length >= 40 && kept.length < 200);
      assert.ok(
        kept.every((record) => record.success === true),
        'aborted calls are not recorded',
      );
      release();
      const second = spawnProxy(t, args, { bin: MAIN_BIN });
      assert.equal(await second.exited, 0);
      assertComplete(out, 200);
    },
  );
});
