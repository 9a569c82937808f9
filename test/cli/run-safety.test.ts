/**
 * `aurora-swarm run` never loses, destroys or duplicates a user's work: the first mistakes a
 * new user makes (a notes file or the prompts file as --out, a missing directory, two runs at
 * once, a kill -9) are refused or recovered from before any prompt is sent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { describe, type TestContext, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { type MockSwarm, startMockSwarm } from '../../src/mock/mock-swarm.js';
import { formatLockTime, lockResultsFile } from '../../src/run/results-lock.js';
import {
  MAIN_BIN,
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

const SAFETY = { timeout: 120_000 };

function requestsOf(swarm: MockSwarm): number {
  return swarm.agents.reduce((total, agent) => total + agent.stats.requests, 0);
}

async function setUp(t: TestContext, count = 2) {
  const swarm = await startMockSwarm({ count });
  t.after(() => swarm.close());
  const directory = temporaryDirectory(t);
  const hostfile = writeHostfile(t, swarm.hostfileText);
  return { swarm, directory, hostfile };
}

/** Run in-process; returns the exit code and the single stderr line (asserted single). */
async function refused(args: string[]): Promise<{ exitCode: number; line: string }> {
  const run = scriptedIo();
  const exitCode = await runAuroraSwarm(['run', ...args], run.io);
  const lines = run.stderrLines();
  assert.equal(lines.length, 1, lines.join('\n'));
  return { exitCode, line: lines[0] ?? '' };
}

describe('run refuses an --out that is not its results file, untouched', {
  concurrency: true,
}, () => {
  test("a user's notes file: exit 2 naming the file and the line, byte for byte as it was", async (t) => {
    const { swarm, directory, hostfile } = await setUp(t);
    const prompts = writePrompts(directory, 5);
    const notes = join(directory, 'notes.txt');
    const text = 'my notes\nline two\nline three\n';
    writeFileSync(notes, text);
    const { exitCode, line } = await refused(['-f', hostfile, '-i', prompts, '-o', notes]);
    assert.equal(exitCode, 2);
    assert.equal(
      line,
      `aurora-swarm run: error: ${notes} is not a results file of aurora-swarm run (line 1 is not a result record): refusing to touch it; choose another --out`,
    );
    assert.equal(readFileSync(notes, 'utf8'), text);
    assert.equal(existsSync(`${notes}.lock`), false, 'the lock is given back');
    assert.equal(requestsOf(swarm), 0, 'nothing sent');

    // One result line followed by anything else is not a results file either.
    const mixed = join(directory, 'mixed.jsonl');
    const mixedText = '{"id":"q0","success":true,"agent":0,"line":1,"text":"x"}\n\nmore notes';
    writeFileSync(mixed, mixedText);
    const second = await refused(['-f', hostfile, '-i', prompts, '-o', mixed]);
    assert.equal(second.exitCode, 2);
    assert.match(second.line, /line 2 is empty/);
    assert.equal(readFileSync(mixed, 'utf8'), mixedText);
  });

  test('the prompts file itself, by path or by a hard link: exit 2, prompts intact', async (t) => {
    const { swarm, directory, hostfile } = await setUp(t);
    const prompts = writePrompts(directory, 5);
    const before = readFileSync(prompts, 'utf8');
    const same = await refused(['-f', hostfile, '-i', prompts, '-o', prompts]);
    assert.equal(same.exitCode, 2);
    assert.match(same.line, /results file .* is the prompts file itself \(--prompts .*\)/);
    const link = join(directory, 'link.jsonl');
    linkSync(prompts, link);
    const linked = await refused(['-f', hostfile, '-i', prompts, '-o', link]);
    assert.equal(linked.exitCode, 2);
    assert.match(linked.line, /is the prompts file itself/);
    // Another prompts file is no results file.
    const other = writePrompts(directory, 3, 'other.jsonl');
    const prompt = await refused(['-f', hostfile, '-i', prompts, '-o', other]);
    assert.match(prompt.line, /line 1 is a prompt, not a result/);
    assert.equal(readFileSync(prompts, 'utf8'), before);
    assert.equal(requestsOf(swarm), 0);
  });

  test('a missing directory, a directory: exit 2 in words, before anything is sent', async (t) => {
    const { swarm, directory, hostfile } = await setUp(t);
    const prompts = writePrompts(directory, 5);
    const missing = join(directory, 'nodir', 'sub', 'r.jsonl');
    const first = await refused(['-f', hostfile, '-i', prompts, '-o', missing]);
    assert.equal(first.exitCode, 2);
    assert.equal(
      first.line,
      `aurora-swarm run: error: cannot write results file ${missing}: directory ${join(directory, 'nodir', 'sub')} does not exist`,
    );
    const folder = join(directory, 'folder');
    mkdirSync(folder);
    const second = await refused(['-f', hostfile, '-i', prompts, '-o', folder]);
    assert.equal(second.exitCode, 2);
    assert.match(second.line, /cannot write results file .*folder: it is a directory$/);
    assert.equal(requestsOf(swarm), 0);
  });

  test('only an unfinished last line is removed, and the message says so', async (t) => {
    const { directory, hostfile } = await setUp(t);
    const prompts = writePrompts(directory, 4);
    const out = join(directory, 'results.jsonl');
    const kept = '{"id":"q0","success":true,"agent":0,"line":1,"text":"kept"}\n';
    writeFileSync(out, `${kept}{"id":"q1","succ`);
    const run = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['run', '-f', hostfile, '-i', prompts, '-o', out], run.io),
      0,
    );
    assert.match(
      run.stderr(),
      /1 done by an earlier run \(skipped\); removed the unfinished last line of .*results\.jsonl \(no newline at its end: a write cut by a kill\)/,
    );
    const records = readJsonLines(out);
    assert.equal(records.length, 4);
    assert.equal(records[0]?.text, 'kept');

    // An unfinished last line that is not the start of a result is not ours to remove.
    const notes = join(directory, 'notes.jsonl');
    writeFileSync(notes, `${kept}a line the user typed`);
    const refusal = await refused(['-f', hostfile, '-i', prompts, '-o', notes]);
    assert.equal(refusal.exitCode, 2);
    assert.match(refusal.line, /line 2 is not a result record/);
    assert.equal(readFileSync(notes, 'utf8'), `${kept}a line the user typed`);
  });
});

function assertEveryIdOnce(out: string, count: number): void {
  const records = readJsonLines(out);
  assert.equal(records.length, count, 'one line per prompt');
  assert.equal(new Set(records.map((record) => record.id)).size, count, 'no id twice');
  assert.ok(records.every((record) => record.success === true));
}

describe('one writer per results file (real processes)', { concurrency: true }, () => {
  test(
    'a second run on the same --out stops at once with exit 2 naming the first',
    SAFETY,
    async (t) => {
      const { swarm, release } = await startStallingSwarm(t, 50);
      const directory = temporaryDirectory(t);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const prompts = writePrompts(directory, 400);
      const out = join(directory, 'results.jsonl');
      const args = ['run', '-f', hostfile, '-i', prompts, '-o', out, '-c', '16'];
      const first = spawnProxy(t, args, { bin: MAIN_BIN });
      await waitForLineCount(out, 40);
      const started = lockStarted(out);
      const second = spawnProxy(t, args, { bin: MAIN_BIN });
      assert.equal(await second.exited, 2);
      assert.deepEqual(second.stderrLines, [
        `aurora-swarm run: error: another run (pid ${first.child.pid}, started ${started}) is writing ${out} (lock ${out}.lock; a lock not refreshed for 120s is taken over)`,
      ]);
      const sent = swarm.agents.flatMap((agent) =>
        agent.requests
          .filter((request) => request.url === '/v1/chat/completions')
          .map((request) => JSON.parse(request.body).messages[0].content as string),
      );
      assert.equal(new Set(sent).size, sent.length, 'no prompt was sent twice');
      first.child.kill('SIGINT');
      assert.equal(await first.exited, 130);
      assert.equal(existsSync(`${out}.lock`), false, 'the lock is removed at the end');
      release();
      const rerun = spawnProxy(t, args, { bin: MAIN_BIN });
      assert.equal(await rerun.exited, 0, rerun.stderrLines.join('\n'));
      assertEveryIdOnce(out, 400);
    },
  );

  test(
    'kill -9 leaves a lock that the rerun takes over at once, with a one-line notice',
    SAFETY,
    async (t) => {
      const { swarm, release } = await startStallingSwarm(t, 50);
      const directory = temporaryDirectory(t);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const prompts = writePrompts(directory, 300);
      const out = join(directory, 'results.jsonl');
      const args = ['run', '-f', hostfile, '-i', prompts, '-o', out, '-c', '16'];
      const first = spawnProxy(t, args, { bin: MAIN_BIN });
      await waitForLineCount(out, 40);
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, null);
      assert.ok(existsSync(`${out}.lock`), 'kill -9 leaves the lock behind');
      const started = lockStarted(out);
      release();
      const second = spawnProxy(t, args, { bin: MAIN_BIN });
      assert.equal(await second.exited, 0, second.stderrLines.join('\n'));
      const notices = second.stderrLines.filter((line) => /taking the lock over/.test(line));
      assert.deepEqual(notices, [
        `aurora-swarm run: ${out} was locked by run pid ${first.child.pid} (started ${started}), which is no longer running: taking the lock over`,
      ]);
      assertEveryIdOnce(out, 300);
    },
  );

  test('the same file by another name (a symlink to it, a symlinked directory): one lock', async (t) => {
    const { swarm, directory, hostfile } = await setUp(t);
    const prompts = writePrompts(directory, 3);
    const storage = join(directory, 'project-storage');
    mkdirSync(storage);
    const out = join(storage, 'results.jsonl');
    const held = await lockResultsFile(out);
    t.after(() => held.release());
    const started = lockStarted(out);
    const linkedFile = join(directory, 'results-link.jsonl');
    symlinkSync(out, linkedFile);
    const linkedDirectory = join(directory, 'home-link');
    symlinkSync(storage, linkedDirectory);
    for (const name of [linkedFile, join(linkedDirectory, 'results.jsonl')]) {
      const second = await refused(['-f', hostfile, '-i', prompts, '-o', name]);
      assert.equal(second.exitCode, 2);
      assert.equal(
        second.line,
        `aurora-swarm run: error: another run (pid ${process.pid}, started ${started}) is writing ${name} (lock ${out}.lock; a lock not refreshed for 120s is taken over)`,
      );
    }
    assert.equal(existsSync(`${linkedFile}.lock`), false);
    assert.equal(existsSync(out), false, 'nothing written');
    assert.equal(requestsOf(swarm), 0, 'nothing sent');
  });

  test('a killed run its parent has not reaped yet (a zombie) holds no lock', {
    skip: process.platform !== 'linux' && 'reads /proc',
  }, async (t) => {
    const { directory, hostfile } = await setUp(t);
    const prompts = writePrompts(directory, 3);
    const out = join(directory, 'results.jsonl');
    // The background child waits for a byte on fd 3; its parent execs into a sleep that
    // never reaps it. The byte is sent only once the exec is done, so the shell cannot
    // reap the child first (with `sleep 0 &` it sometimes did, under load).
    const parent = spawn('sh', ['-c', 'head -c 1 <&3 >/dev/null & echo $!; exec sleep 60'], {
      stdio: ['ignore', 'pipe', 'ignore', 'pipe'],
    });
    t.after(() => parent.kill('SIGKILL'));
    const [chunk] = (await once(parent.stdout as Readable, 'data')) as [Buffer];
    const zombie = Number(chunk.toString().trim());
    const procText = (path: string) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return '';
      }
    };
    while (procText(`/proc/${parent.pid}/comm`).trim() !== 'sleep') {
      await new Promise((resolve) => setImmediate(resolve));
    }
    (parent.stdio[3] as Writable).end('x');
    const isZombie = () => /\) Z /.test(procText(`/proc/${zombie}/stat`));
    while (!isZombie()) await new Promise((resolve) => setImmediate(resolve));
    const lockPath = `${out}.lock`;
    mkdirSync(lockPath);
    const owner = { pid: zombie, host: hostname(), startedAt: new Date().toISOString() };
    writeFileSync(join(lockPath, 'owner.json'), JSON.stringify(owner));
    const run = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['run', '-f', hostfile, '-i', prompts, '-o', out], run.io),
      0,
      run.stderr(),
    );
    assert.match(
      run.stderrLines()[0] ?? '',
      new RegExp(
        `was locked by run pid ${zombie} .*, which is no longer running: taking the lock over$`,
      ),
    );
    assert.equal(readJsonLines(out).length, 3);
  });

  test("another host's lock: refused while fresh, taken over once stale", async (t) => {
    const { directory, hostfile } = await setUp(t);
    const prompts = writePrompts(directory, 3);
    const out = join(directory, 'results.jsonl');
    const lockPath = `${out}.lock`;
    mkdirSync(lockPath);
    const owner = {
      pid: 4242,
      host: `${hostname()}-elsewhere`,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(join(lockPath, 'owner.json'), JSON.stringify(owner));
    const fresh = await refused(['-f', hostfile, '-i', prompts, '-o', out]);
    assert.equal(fresh.exitCode, 2);
    assert.match(
      fresh.line,
      new RegExp(`another run \\(pid 4242 on ${owner.host}, started \\d\\d:\\d\\d\\) is writing`),
    );
    assert.equal(existsSync(out), false);

    const longAgo = new Date(Date.now() - 10 * 60_000);
    utimesSync(lockPath, longAgo, longAgo);
    const run = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['run', '-f', hostfile, '-i', prompts, '-o', out], run.io),
      0,
    );
    assert.match(
      run.stderrLines()[0] ?? '',
      new RegExp(
        `was locked by a run \\(pid 4242 on ${owner.host}, .*\\), whose lock has not been refreshed for \\d+s: taking it over$`,
      ),
    );
    assert.equal(readJsonLines(out).length, 3);
  });
});

/** When the holder of `out`'s lock started, as the messages show it. */
function lockStarted(out: string): string {
  const owner = JSON.parse(readFileSync(join(`${out}.lock`, 'owner.json'), 'utf8'));
  return formatLockTime(owner.startedAt);
}

describe('failures a retry cannot fix', () => {
  test(
    'context overflow: said so in the summary, failure_kind the same word, not resent by a rerun',
    SAFETY,
    async (t) => {
      const { swarm, directory, hostfile } = await setUp(t, 3);
      const prompts = join(directory, 'prompts.jsonl');
      const lines = Array.from({ length: 10 }, (_value, index) =>
        JSON.stringify({
          id: `q${index}`,
          prompt: [2, 5, 7].includes(index) ? 'word '.repeat(9000) : `question ${index}`,
        }),
      );
      writeFileSync(prompts, `${lines.join('\n')}\n`);
      const out = join(directory, 'results.jsonl');
      const args = ['run', '-f', hostfile, '-i', prompts, '-o', out];
      const first = scriptedIo();
      assert.equal(await runAuroraSwarm(args, first.io), 1);
      assert.match(
        first.stdout(),
        /failures by kind \(failure_kind\):\n\s+context-overflow\s+3\s+e\.g\. You passed \d+ input tokens and requested \d+ output tokens\. However, the model's context length is only 8192 tokens/,
      );
      assert.match(
        first.stdout(),
        /3 prompt\(s\) are longer than the model's context: rerunning will not help/,
      );
      assert.doesNotMatch(first.stdout(), /rerun the same command to retry/);
      const failed = readJsonLines(out).filter((record) => record.success === false);
      assert.deepEqual(
        failed.map((record) => record.failure_kind),
        ['context-overflow', 'context-overflow', 'context-overflow'],
      );

      const chats = () =>
        swarm.agents.reduce(
          (total, agent) =>
            total +
            agent.requests.filter((request) => request.url === '/v1/chat/completions').length,
          0,
        );
      const before = chats();
      const rerun = scriptedIo();
      assert.equal(await runAuroraSwarm(args, rerun.io), 1);
      assert.equal(chats(), before, 'nothing resent');
      assert.match(
        rerun.stderr(),
        /3 failed earlier in a way a retry cannot fix \(kept; --retry-all-failed sends them again\)/,
      );
      const forced = scriptedIo();
      assert.equal(await runAuroraSwarm([...args, '--retry-all-failed'], forced.io), 1);
      assert.equal(chats(), before + 3);
      assert.equal(readJsonLines(out).length, 10, 'every id once');
    },
  );
});
