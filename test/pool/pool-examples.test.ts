import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The examples in docs/pools.md live in examples/pools/ so they are compiled and run here.
const examplesDirectory = join(dirname(fileURLToPath(import.meta.url)), '../../examples/pools');
const run = promisify(execFile);

for (const file of readdirSync(examplesDirectory).filter((name) => name.endsWith('.js'))) {
  test(`example ${file} runs and exits 0`, { timeout: 30_000 }, async () => {
    const { stdout } = await run(process.execPath, [join(examplesDirectory, file)]);
    assert.ok(stdout.length > 0);
    assert.doesNotMatch(stdout, /undefined \(|NaN/);
  });
}
