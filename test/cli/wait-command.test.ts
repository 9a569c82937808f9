/** `aurora-swarm wait` against a partly dead swarm: stopped agents and hanging agents. */
import assert from 'node:assert/strict';
import { linkSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { temporaryDirectory, writeHostfile } from '../proxy/proxy-test-helpers.js';
import { scriptedIo } from './cli-test-helpers.js';

const SAFETY = { timeout: 30_000 };

/** Five agents tagged by index: 1 stopped (refuses), 3 hanging (never answers). */
async function partlyDeadSwarm() {
  const swarm = await startMockSwarm({
    count: 5,
    tags: (index) => ({ node: `n${index}` }),
    perAgent: (index) => (index === 3 ? { failure: 'hang' } : undefined),
  });
  await swarm.agents[1]?.stop();
  return swarm;
}

describe('aurora-swarm wait', { concurrency: true }, () => {
  test('target met: the ready agents in hostfile order, tags kept, exit 0', SAFETY, async (t) => {
    const swarm = await partlyDeadSwarm();
    t.after(() => swarm.close());
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const directory = temporaryDirectory(t);
    const output = join(directory, 'ready.txt');
    // An older list is replaced whole (written aside, then renamed over it).
    writeFileSync(output, 'stale\t1\n');
    const run = scriptedIo();
    const args = [
      'wait',
      '-f',
      hostfile,
      '--min-hosts',
      '3',
      '--probe-timeout',
      '0.2',
      '-o',
      output,
    ];
    assert.equal(await runAuroraSwarm(args, run.io), 0);
    const expected = [0, 2, 4].map(
      (index) => `127.0.0.1\t${swarm.agents[index]?.port}\tnode=n${index}\n`,
    );
    assert.equal(readFileSync(output, 'utf8'), expected.join(''));
    assert.deepEqual(readdirSync(directory), ['ready.txt'], 'no temporary file left behind');
    assert.match(
      run.stderrLines().at(-1) ?? '',
      /3 of 5 agent\(s\) ready \(target 3\); written to /,
    );

    const fraction = scriptedIo();
    assert.equal(
      await runAuroraSwarm(
        ['wait', '-f', hostfile, '--min-fraction', '0.5', '--probe-timeout', '0.2'],
        fraction.io,
      ),
      0,
    );
    assert.equal(
      fraction.stdout(),
      expected.join(''),
      'without --output the hostfile goes to stdout',
    );
  });

  test(
    'hung and dead hosts cannot stretch the timeout: exit 1, an empty list written',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 3, behavior: { failure: 'hang' } });
      t.after(() => swarm.close());
      await swarm.agents[1]?.stop();
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const output = join(temporaryDirectory(t), 'ready.txt');
      const run = scriptedIo();
      // The probe timeout (60 s) is far longer than the whole wait: the deadline must cut it.
      const args = [
        'wait',
        '-f',
        hostfile,
        '--timeout',
        '0.3',
        '--interval',
        '0.1',
        '--probe-timeout',
        '60',
        '-o',
        output,
      ];
      assert.equal(await runAuroraSwarm(args, run.io), 1);
      assert.equal(readFileSync(output, 'utf8'), '');
      assert.match(
        run.stderrLines().at(-1) ?? '',
        /timed out after .*: 0 of 3 agent\(s\) ready \(wanted 3\)/,
      );
    },
  );

  test(
    'timed out with some ready: exit 1, the ready ones written in hostfile order',
    SAFETY,
    async (t) => {
      const swarm = await partlyDeadSwarm();
      t.after(() => swarm.close());
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const output = join(temporaryDirectory(t), 'ready.txt');
      const run = scriptedIo();
      const args = [
        'wait',
        '-f',
        hostfile,
        '--timeout',
        '5',
        '--interval',
        '0.1',
        '--probe-timeout',
        '1',
        '-o',
        output,
      ];
      assert.equal(await runAuroraSwarm(args, run.io), 1);
      assert.deepEqual(
        readFileSync(output, 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split('\t')[1]),
        [0, 2, 4].map((index) => String(swarm.agents[index]?.port)),
      );
      assert.match(
        run.stderrLines().at(-1) ?? '',
        /timed out after .*: 3 of 5 agent\(s\) ready \(wanted 5\)/,
      );
    },
  );

  test('an agent that starts late is picked up on a later round', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    await swarm.agents[1]?.stop();
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const run = scriptedIo();
    const exited = runAuroraSwarm(
      ['wait', '-f', hostfile, '--interval', '0.05', '--timeout', '60'],
      run.io,
    );
    await run.waitForStderr(/1\/2 ready/);
    await swarm.agents[1]?.start();
    assert.equal(await exited, 0);
    assert.equal(run.stdout(), swarm.hostfileText);
  });

  test('SIGINT writes what is ready and exits 130', SAFETY, async (t) => {
    const swarm = await partlyDeadSwarm();
    t.after(() => swarm.close());
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const run = scriptedIo();
    const exited = runAuroraSwarm(
      ['wait', '-f', hostfile, '--interval', '0.05', '--probe-timeout', '0.1'],
      run.io,
    );
    await run.waitForStderr(/3\/5 ready/);
    run.signal('SIGINT');
    assert.equal(await exited, 130);
    assert.equal(run.stdout().trim().split('\n').length, 3);
  });

  test("--output never replaces the hostfile it waits for or a user's other file: exit 2, untouched, nothing probed", async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const hostfile = join(directory, 'hostfile.txt');
    // An agent that is not up (yet): replacing the hostfile by the ready list would lose it.
    const hostfileText = `${swarm.hostfileText}127.0.0.1\t1\n`;
    writeFileSync(hostfile, hostfileText);
    const link = join(directory, 'same-file.txt');
    linkSync(hostfile, link);
    const notes = join(directory, 'notes.txt');
    const notesText = 'my notes\nline two\nline three\n';
    writeFileSync(notes, notesText);
    const cases: Array<[string, string]> = [
      [
        hostfile,
        `cannot write --output ${hostfile}: it is the hostfile being waited for (--hostfile ${hostfile}); choose another --output`,
      ],
      [
        link,
        `cannot write --output ${link}: it is the hostfile being waited for (--hostfile ${hostfile}); choose another --output`,
      ],
      [
        notes,
        `cannot write --output ${notes}: it is not a hostfile (line 1: expected a port (an integer 1-65535) or a key=value tag after the host, got "notes"): refusing to replace it; choose another --output`,
      ],
    ];
    for (const [output, message] of cases) {
      const run = scriptedIo();
      assert.equal(
        await runAuroraSwarm(['wait', '-f', hostfile, '--timeout', '1', '-o', output], run.io),
        2,
        output,
      );
      assert.deepEqual(run.stderrLines(), [`aurora-swarm wait: error: ${message}`]);
    }
    assert.equal(readFileSync(hostfile, 'utf8'), hostfileText);
    assert.equal(readFileSync(notes, 'utf8'), notesText);
    assert.equal(
      swarm.agents.reduce((total, agent) => total + agent.stats.requests, 0),
      0,
      'nothing probed',
    );
    // An earlier list (a hostfile) and an empty file are replaced as before.
    const earlier = join(directory, 'ready.txt');
    writeFileSync(earlier, '# ready agents\ncompute-001\t8000\n');
    const empty = join(directory, 'empty.txt');
    writeFileSync(empty, '');
    for (const output of [earlier, empty]) {
      const run = scriptedIo();
      assert.equal(
        await runAuroraSwarm(['wait', '-f', hostfile, '--min-hosts', '2', '-o', output], run.io),
        0,
      );
      assert.equal(readFileSync(output, 'utf8'), swarm.hostfileText);
    }
  });

  test('usage errors: one line, exit 2', async (t) => {
    const hostfile = writeHostfile(t, '127.0.0.1\t8000\n127.0.0.1\t8001\n');
    const cases: Array<[string[], RegExp]> = [
      [['wait'], /no hostfile: pass --hostfile or set AURORA_SWARM_HOSTFILE/],
      [['wait', '-f', hostfile, '--min-hosts', '3'], /--min-hosts 3 is more than the 2 agent\(s\)/],
      [['wait', '-f', hostfile, '--min-hosts', '1', '--min-fraction', '0.5'], /not both/],
      [['wait', '-f', hostfile, '--min-fraction', '1.5'], /argument '1\.5' is invalid/],
      [
        ['wait', '-f', hostfile, '--timeout', '-1'],
        /argument '-1' is invalid\. expected a positive number of seconds/,
      ],
      [
        ['wait', '-f', '/nonexistent/hostfile'],
        /cannot read hostfile \/nonexistent\/hostfile: no such file/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const run = scriptedIo();
      assert.equal(await runAuroraSwarm(args, run.io), 2, args.join(' '));
      assert.equal(run.stderrLines().length, 1, run.stderr());
      assert.match(run.stderrLines()[0] ?? '', /^aurora-swarm wait: error: /);
      assert.match(run.stderrLines()[0] ?? '', pattern);
    }
  });
});
