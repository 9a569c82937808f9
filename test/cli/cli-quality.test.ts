/** Every subcommand: --help with examples, --version, one-line errors, no stack traces. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { MAIN_BIN, spawnProxy } from '../proxy/proxy-test-helpers.js';
import { scriptedIo } from './cli-test-helpers.js';

const SUBCOMMANDS = ['demo', 'mock-agents', 'proxy', 'run', 'wait', 'status'];

describe('CLI quality', { concurrency: true }, () => {
  test('--help of the program lists every subcommand; each has --help with examples', async () => {
    const root = scriptedIo();
    assert.equal(await runAuroraSwarm(['--help'], root.io), 0);
    for (const name of SUBCOMMANDS) assert.match(root.stdout(), new RegExp(`^  ${name}\\b`, 'm'));
    assert.match(root.stdout(), /Exit codes:/);
    for (const name of SUBCOMMANDS) {
      for (const argv of [
        [name, '--help'],
        ['help', name],
      ]) {
        const run = scriptedIo();
        assert.equal(await runAuroraSwarm(argv, run.io), 0, argv.join(' '));
        assert.match(run.stdout(), new RegExp(`^Usage: aurora-swarm ${name} `));
        assert.match(run.stdout(), /Examples:\n {2}\$ /);
        assert.equal(run.stderr(), '');
      }
    }
  });

  test('unknown commands and flags: one line naming the command, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['bogus'], /^aurora-swarm: error: unknown command 'bogus' \(see --help\)$/],
      [
        ['run', '-i', 'p', '-o', 'o', '--bogus'],
        /^aurora-swarm run: error: unknown option '--bogus' \(see --help\)$/,
      ],
      [
        ['wait', '--min-host', '3'],
        /^aurora-swarm wait: error: unknown option '--min-host'.*Did you mean --min-hosts\?/,
      ],
      [
        ['status', '--proxy'],
        /^aurora-swarm status: error: option '--proxy <url>' argument missing/,
      ],
    ];
    for (const [argv, pattern] of cases) {
      const run = scriptedIo();
      assert.equal(await runAuroraSwarm(argv, run.io), 2, argv.join(' '));
      assert.equal(run.stderrLines().length, 1, run.stderr());
      assert.match(run.stderrLines()[0] ?? '', pattern);
    }
  });

  test('the built bin: --version, and a user mistake has no stack trace', async (t) => {
    const version = spawnProxy(t, ['--version'], { bin: MAIN_BIN });
    assert.equal(await version.exited, 0);
    assert.match(version.stdout().trim(), /^\d+\.\d+\.\d+$/);
    const mistake = spawnProxy(
      t,
      ['run', '-i', '/nonexistent.jsonl', '-o', '/tmp/x.jsonl', '-f', '/nonexistent-hostfile'],
      { bin: MAIN_BIN },
    );
    assert.equal(await mistake.exited, 2);
    assert.deepEqual(mistake.stderrLines, [
      'aurora-swarm run: error: cannot read hostfile /nonexistent-hostfile: no such file',
    ]);
  });
});
