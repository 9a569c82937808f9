import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The `version` of the aurora-swarm package.json above this module (works from src or dist). */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'aurora-swarm' && typeof manifest.version === 'string') {
        cached = manifest.version;
        return cached;
      }
    } catch {
      // No package.json here: keep walking up.
    }
    const parent = dirname(directory);
    if (parent === directory) return '0.0.0-unknown';
    directory = parent;
  }
}
