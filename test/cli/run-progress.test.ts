/** The progress of `aurora-swarm run`: leaves the terminal as found, fits it, shows a resume whole. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { etaSeconds, fitBarLine, formatProgressLine } from '../../src/cli/run-progress.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { temporaryDirectory, writeHostfile } from '../proxy/proxy-test-helpers.js';
import { scriptedIo } from './cli-test-helpers.js';

const ESCAPE = String.fromCharCode(27);
const COLOUR = new RegExp(`${ESCAPE}\\[[0-9;]*m`, 'g');

describe('run progress', () => {
  test('the bar never hides the cursor or turns line wrapping off, and fits the terminal', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const prompts = join(directory, 'prompts.txt');
    writeFileSync(
      prompts,
      `${Array.from({ length: 30 }, (_v, index) => `q ${index}`).join('\n')}\n`,
    );
    // 0: a terminal that does not say its width (e.g. under script(1)): taken as 80.
    for (const columns of [80, 50, 0]) {
      const out = join(directory, `out-${columns}.jsonl`);
      const run = scriptedIo({}, { terminal: true });
      const io = { ...run.io, stderrColumns: columns };
      assert.equal(await runAuroraSwarm(['run', '-f', hostfile, '-i', prompts, '-o', out], io), 0);
      const stderr = run.stderr();
      assert.ok(!stderr.includes(`${ESCAPE}[?7l`), 'line wrapping left on');
      assert.ok(!stderr.includes(`${ESCAPE}[?25l`), 'cursor left visible');
      // Every drawn bar (after a cursor move to column 1) fits, colour codes not counted.
      const drawn = stderr.split(`${ESCAPE}[1G`).slice(1);
      assert.ok(drawn.length > 0);
      for (const frame of drawn) {
        const visible = (frame.split(`${ESCAPE}[0K`)[0] ?? '').replace(COLOUR, '');
        assert.ok(visible.length < (columns || 80), `${visible.length} >= ${columns}: ${visible}`);
      }
      assert.ok((drawn.at(-1)?.length ?? 0) > 40, 'the last frame is drawn at full width');
    }
  });

  test('fitBarLine drops the bar, colour and rate before cutting; the ETA stays longest', () => {
    const parts = {
      value: '384/2000 (256 from an earlier run)',
      counts: [`${ESCAPE}[32m120${ESCAPE}[39m ok`, '8 failed'],
      plainCounts: ['120 ok', '8 failed'],
      tail: ['waiting for the proxy at http://localhost:9090', '12.3/s', 'ETA 2m10s'],
    };
    const wide = fitBarLine(parts, 0.19, 200);
    assert.match(
      wide,
      /^█+░+ 384\/2000 \(256 from an earlier run\) \| .*120.* ok \| 8 failed \| waiting .* \| 12\.3\/s \| ETA 2m10s$/,
    );
    const narrow = fitBarLine(parts, 0.19, 80);
    assert.ok(narrow.length < 80);
    assert.match(narrow, /ETA 2m10s$/);
    assert.ok(fitBarLine(parts, 0.19, 30).length < 30);
  });

  test('a resume shows the whole file; no ETA until half a window has finished', () => {
    const plan = {
      format: 'jsonl' as const,
      total: 2000,
      alreadyDone: 256,
      alreadyFailed: 0,
      finalFailures: 0,
      toRun: 1744,
      retried: 0,
      torn: 0,
      duplicates: 0,
      unmatched: 0,
    };
    const early = { done: 3, succeeded: 3, failed: 0, toRun: 1744, elapsedMs: 2000 };
    assert.equal(
      formatProgressLine(early, plan, 512),
      '259/2000 done (3 ok, 0 failed, 256 from an earlier run), 1.5/s, ETA ?',
    );
    assert.ok(Number.isNaN(etaSeconds(early, 512)), 'one early answer promises nothing');
    const later = { done: 300, succeeded: 300, failed: 0, toRun: 1744, elapsedMs: 60_000 };
    assert.equal(Math.round(etaSeconds(later, 512)), 289);
    assert.equal(etaSeconds({ ...later, done: 1744 }, 512), 0);
  });
});
