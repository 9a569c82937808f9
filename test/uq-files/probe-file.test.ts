import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { predictSemanticEntropy, trainProbe } from '../../src/uq/ridge-probe.js';
import { loadProbe, saveProbe } from '../../src/uq-files/probe-file.js';
import { features, linearMap } from '../uq/linear-data.js';

describe('saveProbe / loadProbe', () => {
  test('round-trips a probe through a JSON file', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'aurora-probe-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const inputs = features(12, 3);
    const probe = trainProbe(inputs, inputs.map(linearMap), { lambda: 0.5 });
    const path = join(directory, 'probe.json');
    saveProbe(probe, path);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).kind, 'ridge-probe');
    const loaded = loadProbe(path);
    assert.deepEqual(loaded, probe);
    assert.deepEqual(predictSemanticEntropy(loaded, inputs), predictSemanticEntropy(probe, inputs));
  });

  test('a bad file gives a clear InvalidOptionError naming the file and the problem', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'aurora-probe-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const write = (name: string, text: string) => {
      const path = join(directory, name);
      writeFileSync(path, text);
      return path;
    };
    const valid = {
      kind: 'ridge-probe',
      version: 1,
      weights: [1],
      intercept: 0,
      lambda: 1,
      fitIntercept: true,
    };
    const cases: [string, RegExp][] = [
      [join(directory, 'missing.json'), /cannot read probe file ".*missing\.json": no such file/],
      [
        write('garbage.json', '{ not json'),
        /probe file ".*garbage\.json" is neither JSON nor \.npz/,
      ],
      [write('array.json', '[1, 2]'), /expected a probe object, got \[1,2\]/],
      [
        write('kind.json', JSON.stringify({ ...valid, kind: 'other' })),
        /field "kind" must be "ridge-probe"/,
      ],
      [
        write('weights.json', JSON.stringify({ ...valid, weights: ['a'] })),
        /field "weights" must be/,
      ],
      [
        write('intercept.json', JSON.stringify({ ...valid, intercept: null })),
        /field "intercept" must be a finite number, got null/,
      ],
      [
        write('version.json', JSON.stringify({ ...valid, version: 2 })),
        /field "version" must be 1, got 2/,
      ],
    ];
    for (const [path, pattern] of cases) {
      assert.throws(
        () => loadProbe(path),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.match(error.message, /^loadProbe: /);
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
    assert.deepEqual(loadProbe(write('ok.json', JSON.stringify(valid))), valid);
    assert.throws(
      () => saveProbe({ weights: [1] } as never, join(directory, 'x.json')),
      /saveProbe: probe: field "kind"/,
    );
    assert.throws(
      () => saveProbe(valid as never, join(directory, 'no-such-dir', 'x.json')),
      /saveProbe: cannot write probe file/,
    );
  });
});
