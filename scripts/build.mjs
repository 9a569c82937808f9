// `npm run build`: a clean dist/ compiled by tsc, the browser assets copied beside their
// modules (scripts/copy-assets.js), and the package's bin files executable.
//
// dist/ is removed first so that a deleted source (or test) leaves no stale output behind
// (`npm test` runs every file under dist/test). tsc writes new files without the
// executable bit, and a fresh file replaces the one `npm link` made executable, so the
// bins named in package.json are made executable again here: a linked `aurora-swarm`
// keeps working across `npm run build`, `npm start` and `npm test`.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = process.cwd();
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  // tsc has printed the errors.
  process.exit(1);
}
await import('./copy-assets.js');
for (const bin of Object.values(packageJson.bin ?? {})) {
  chmodSync(join(root, bin), 0o755);
}
