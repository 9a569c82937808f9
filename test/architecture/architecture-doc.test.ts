/**
 * docs/architecture.md cannot go stale: its source tree names every file of src/
 * (TypeScript and browser assets) and nothing that is gone.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js|css)$/.test(entry.name) ? [relative(root, path).split(sep).join('/')] : [];
  });
}

/** The files of the first ``` block under "## Source tree", as paths from the repository root. */
function filesInTree(markdown: string): string[] {
  const section = markdown.split('## Source tree')[1] ?? '';
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const lines = block.split('\n');
  const rootFolder = (lines[0] ?? '').trim();
  const folders: string[] = [];
  const files: string[] = [];
  for (const line of lines.slice(1)) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)/.exec(line);
    if (match === null) continue;
    const depth = (match[1] as string).length / 4;
    const name = match[2] as string;
    folders.length = depth;
    if (name.endsWith('/')) folders.push(name);
    else files.push(`${rootFolder}${folders.join('')}${name}`);
  }
  return files;
}

test('docs/architecture.md lists every file of src/, and only those', () => {
  const markdown = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  const documented = filesInTree(markdown).sort();
  const actual = sourceFiles(join(root, 'src')).sort();
  const missing = actual.filter((file) => !documented.includes(file));
  const gone = documented.filter((file) => !actual.includes(file));
  assert.deepEqual(
    { missing, gone },
    { missing: [], gone: [] },
    'add a line for each missing file to the tree of docs/architecture.md (and drop the gone ones)',
  );
});
