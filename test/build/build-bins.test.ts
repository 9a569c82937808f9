/**
 * `npm run build` leaves the package's bin files executable: a linked `aurora-swarm` must keep
 * working after a rebuild (tsc writes new files without the executable bit). The build script
 * runs for real, in a temporary copy of the sources, so the dist/ the other tests run from is
 * never touched.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { temporaryDirectory } from '../proxy/proxy-test-helpers.js';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the build script makes every bin of package.json executable', {
  timeout: 120_000,
}, async (t) => {
  const copy = temporaryDirectory(t);
  for (const name of ['package.json', 'scripts', 'src']) {
    cpSync(join(root, name), join(copy, name), { recursive: true });
  }
  // The library sources only: enough to produce the bins, and a third of the full build's time.
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  writeFileSync(join(copy, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['src'] }));
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const packageJson = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8'));
  const command = packageJson.scripts.build as string;
  assert.match(command, /^node scripts\/build\.mjs$/, 'npm run build is the script under test');

  await execFileAsync(process.execPath, ['scripts/build.mjs'], { cwd: copy });
  const bins = Object.entries(packageJson.bin as Record<string, string>);
  assert.ok(bins.length >= 2);
  for (const [name, path] of bins) {
    const mode = statSync(join(copy, path)).mode & 0o777;
    assert.equal(mode & 0o111, 0o111, `${name} (${path}) mode ${mode.toString(8)}`);
    // Executed as a file, as a linked command is: the shebang and the mode do the rest.
    const { stdout } = await execFileAsync(join(copy, path), ['--version']);
    assert.equal(stdout.trim(), packageJson.version, name);
  }
});
