/**
 * Flags in seconds are bounded by what a Node timer holds (2147483 s, 24.8 days, as the
 * proxy's): a larger value was accepted and every timer it set fired after 1 ms (`run
 * --timeout 3000000` wrote every prompt as a timeout; `job work --lease 1e9` renewed its
 * leases in a busy loop).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { scriptedIo } from './cli-test-helpers.js';

describe('flags in seconds', () => {
  const cases: string[][] = [
    ['run', '-f', 'h.txt', '-i', 'p.txt', '-o', 'r.jsonl', '--timeout', '3000000'],
    ['run', '-f', 'h.txt', '-i', 'p.txt', '-o', 'r.jsonl', '--outage-timeout', '1e9'],
    [
      'job',
      'work',
      '--redis',
      'redis://127.0.0.1:1',
      '--job',
      'j',
      '-f',
      'h.txt',
      '--lease',
      '1e9',
    ],
    ['wait', '-f', 'h.txt', '--interval', '2147484'],
  ];
  for (const args of cases) {
    test(`${args.join(' ')}: one line, exit 2, before anything is read`, async () => {
      const run = scriptedIo();
      assert.equal(await runAuroraSwarm(args, run.io), 2);
      const lines = run.stderrLines();
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0] ?? '', /expected a positive number of seconds, at most 2147483\./);
    });
  }

  test('the bound itself is accepted', async () => {
    const run = scriptedIo();
    // Fails later, on the hostfile that does not exist: the flag was taken.
    assert.equal(
      await runAuroraSwarm(['wait', '-f', 'no-such-hostfile.txt', '--timeout', '2147483'], run.io),
      2,
    );
    assert.match(run.stderr(), /cannot read hostfile no-such-hostfile\.txt/);
  });
});
