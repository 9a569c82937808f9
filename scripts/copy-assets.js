/**
 * Part of `npm run build`: tsc compiles only TypeScript, so every `assets/` folder
 * under src/ (browser files read at run time, e.g. the status page's script and
 * stylesheet) is copied to the same place under dist/src/.
 */
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** @param {string} directory */
function copyAssets(directory) {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(directory, entry.name);
    if (entry.name === 'assets') cpSync(path, join('dist', path), { recursive: true });
    else copyAssets(path);
  }
}

copyAssets('src');
