/**
 * The error contract is true: docs/errors.md has one row per code of
 * `SWARM_ERROR_CODES` and no other, each row names the class that carries the code,
 * that class is public, and the source throws it (so no code is documented but
 * never produced).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SWARM_ERROR_CODES, SwarmError } from '../../src/errors.js';
import * as api from '../../src/index.js';
import { FAILURE_KINDS } from '../../src/pool/failure-kind.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface ErrorRow {
  code: string;
  className: string;
}

function documentedRows(): ErrorRow[] {
  const markdown = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const rows: ErrorRow[] = [];
  for (const match of markdown.matchAll(/^\| `(ERR_[A-Z_]+)` \| `([A-Za-z]+)` \|/gm)) {
    rows.push({ code: match[1] as string, className: match[2] as string });
  }
  return rows;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('error codes', () => {
  const rows = documentedRows();

  test('docs/errors.md has a row for every code and a code for every row', () => {
    assert.deepEqual(rows.map((row) => row.code).sort(), [...SWARM_ERROR_CODES].sort());
  });

  test('each row names a public SwarmError subclass', () => {
    const exported = api as unknown as Record<string, unknown>;
    for (const { code, className } of rows) {
      const errorClass = exported[className];
      assert.equal(typeof errorClass, 'function', `${className} (${code}) is exported`);
      assert.ok(
        (errorClass as { prototype: unknown }).prototype instanceof SwarmError,
        `${className} extends SwarmError`,
      );
    }
  });

  test('every code is thrown somewhere in src/ by the class its row names', () => {
    const sources = sourceFiles(join(root, 'src'))
      .filter((path) => !path.endsWith(join('src', 'errors.ts')))
      .map((path) => readFileSync(path, 'utf8'));
    for (const { code, className } of rows) {
      const constructed = new RegExp(`new ${className}\\(`);
      // Classes shared by several codes (HostfileError) take the code as an argument.
      const shared = rows.filter((row) => row.className === className).length > 1;
      assert.ok(
        sources.some((text) => constructed.test(text) && (!shared || text.includes(`'${code}'`))),
        `${code} is thrown as ${className} somewhere in src/`,
      );
    }
  });

  test('no code is thrown as a bare SwarmError', () => {
    const bare = sourceFiles(join(root, 'src')).filter(
      (path) =>
        !path.endsWith(join('src', 'errors.ts')) &&
        /new SwarmError\(/.test(readFileSync(path, 'utf8')),
    );
    assert.deepEqual(bare, []);
  });

  test('docs/errors.md names every failure kind an AgentResponse can carry, and no other', () => {
    const markdown = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    const list = /`failureKind` \(([^)]*)\)/.exec(markdown)?.[1] ?? '';
    const named = [...list.matchAll(/`([a-z-]+)`/g)].map((match) => match[1]);
    assert.deepEqual(named.sort(), Object.keys(FAILURE_KINDS).sort());
  });
});
