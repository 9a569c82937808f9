/**
 * The house as drawn in docs/architecture.md, checked from the code's own imports:
 * nothing in src/ imports in a circle, and the folders of src/proxy/ import only
 * downwards (a folder may use the floors below it, never the ones above, and the
 * two folders that share a floor never use each other).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const sourceRoot = join(root, 'src');

/**
 * The floors of src/proxy/, top first. A file belongs to the first floor with a
 * pattern matching its path (relative to src/proxy/, with `/`): `name/` is a folder,
 * `name-*` every top-level file starting so, anything else one file. Files of one
 * pattern may import each other (without circles); other patterns of the same floor
 * may not.
 */
const PROXY_FLOORS: readonly (readonly string[])[] = [
  ['proxy-server.ts', 'proxy-cluster.ts'],
  ['running-proxy.ts'],
  ['hostfile-*'],
  ['server/'],
  ['proxy-options.ts'],
  ['forward/', 'status-page/'],
  ['health/'],
  ['guards/'],
  ['proxy-metrics.ts'],
  ['agents/'],
  ['route-request.ts', 'json-response.ts', 'proxy-logger.ts'],
  ['route-table.ts', 'proxy-constants.ts'],
];

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// `import ... from '...'`, `export ... from '...'`, `import '...'` and `import('...')`.
const IMPORTS = [
  /^[ \t]*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^[ \t]*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Every file of src/ (relative, `/`-separated) and the src/ files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const path of sourceFiles(sourceRoot)) {
    const from = relative(sourceRoot, path).split(sep).join('/');
    const text = readFileSync(path, 'utf8');
    const targets: string[] = [];
    const specifiers = IMPORTS.flatMap((pattern) =>
      [...text.matchAll(pattern)].map((match) => match[1] as string),
    );
    for (const specifier of specifiers.filter((text) => text.startsWith('.'))) {
      targets.push(
        relative(sourceRoot, normalize(join(dirname(path), specifier.replace(/\.js$/, '.ts'))))
          .split(sep)
          .join('/'),
      );
    }
    graph.set(from, targets);
  }
  return graph;
}

function proxyFloor(file: string): { floor: number; group: string } {
  const inside = file.slice('proxy/'.length);
  for (const [floor, patterns] of PROXY_FLOORS.entries()) {
    for (const pattern of patterns) {
      const matches = pattern.endsWith('/')
        ? inside.startsWith(pattern)
        : pattern.endsWith('*')
          ? !inside.includes('/') && inside.startsWith(pattern.slice(0, -1))
          : inside === pattern;
      if (matches) {
        return { floor, group: pattern };
      }
    }
  }
  throw new Error(`src/${file} has no floor in PROXY_FLOORS: add it (and to docs/architecture.md)`);
}

describe('import layers', () => {
  const graph = importGraph();

  test('every import names a file that exists', () => {
    const missing = [...graph].flatMap(([from, targets]) =>
      targets.filter((target) => !graph.has(target)).map((target) => `${from} -> ${target}`),
    );
    assert.deepEqual(missing, []);
  });

  test('nothing in src/ imports in a circle', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const target of graph.get(file) ?? []) {
        const seen = state.get(target);
        if (seen === 'visiting') {
          cycles.push([...stack.slice(stack.indexOf(target)), target].join(' -> '));
        } else if (seen === undefined) {
          visit(target);
        }
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
    assert.deepEqual(cycles, []);
  });

  test('src/proxy/ imports only downwards, and never patterns/, pool/, run/ or cli/', () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      if (!from.startsWith('proxy/')) continue;
      const source = proxyFloor(from);
      for (const target of targets) {
        if (/^(patterns|pool|run|cli)\//.test(target)) {
          wrong.push(`${from} -> ${target} (outside what the proxy may use)`);
          continue;
        }
        if (!target.startsWith('proxy/')) continue;
        const destination = proxyFloor(target);
        const sameGroup = destination.group === source.group;
        if (
          destination.floor < source.floor ||
          (destination.floor === source.floor && !sameGroup)
        ) {
          wrong.push(`${from} -> ${target}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('only src/cli/ exits the process', () => {
    const exiting = [...graph.keys()].filter(
      (file) =>
        !file.startsWith('cli/') &&
        /\bprocess\.exit\(/.test(readFileSync(join(sourceRoot, file), 'utf8')),
    );
    assert.deepEqual(exiting, []);
  });
});
