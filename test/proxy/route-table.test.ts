/**
 * The one route table and everything made from it: the router, the 404 message,
 * the CLI help and the route table of docs/proxy.md, which this test keeps in step.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatRoutesHelp } from '../../src/cli/commands/proxy-help.js';
import { routeRequest } from '../../src/proxy/route-request.js';
import {
  FORWARDED_ROUTES,
  LOCAL_ROUTES,
  NOT_FOUND_MESSAGE,
  ROUTE_TABLE,
} from '../../src/proxy/route-table.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The table docs/proxy.md must contain, as made from ROUTE_TABLE. */
function markdownRouteTable(): string {
  const rows = ROUTE_TABLE.map(
    ({ method, path, docs }) => `| ${method.padEnd(6)} | ${`\`${path}\``.padEnd(24)} | ${docs} |`,
  );
  return [
    '| Method | Path                     | Answer |',
    '| ------ | ------------------------ | ------ |',
    ...rows,
  ].join('\n');
}

function namesList(names: readonly string[]): string {
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

describe('the route table', () => {
  test('kinds and paths are unique; the forwarded routes are not local', () => {
    assert.equal(new Set(LOCAL_ROUTES.map((route) => route.kind)).size, LOCAL_ROUTES.length);
    assert.equal(new Set(ROUTE_TABLE.map((route) => route.path)).size, ROUTE_TABLE.length);
    assert.deepEqual(
      LOCAL_ROUTES.filter((route) => route.open).map((route) => route.path),
      ['/health'],
      'only /health answers without the token',
    );
    assert.equal(ROUTE_TABLE.length, LOCAL_ROUTES.length + FORWARDED_ROUTES.length);
  });

  test('the router sends every local path (with or without a query) to its kind', () => {
    for (const { path, kind } of LOCAL_ROUTES) {
      assert.deepEqual(routeRequest(path, 4), { kind }, path);
      assert.deepEqual(routeRequest(`${path}?x=1`, 4), { kind }, `${path}?x=1`);
    }
  });

  test('the 404 message lists every route', () => {
    assert.equal(
      NOT_FOUND_MESSAGE,
      'not found: the routes are / (status page), /health, /status, /hosts, /metrics, /agent/{index}/{path} and /v1/{path}',
    );
  });

  test('the CLI help lists every route with its method', () => {
    const help = formatRoutesHelp();
    for (const { method, path } of ROUTE_TABLE) {
      assert.match(help, new RegExp(`^  ${method} +${path.replace(/[{}]/g, '\\$&')} +\\S`, 'm'));
    }
  });

  test('docs/proxy.md has the route table made from ROUTE_TABLE', () => {
    const markdown = readFileSync(join(root, 'docs', 'proxy.md'), 'utf8');
    const table = markdownRouteTable();
    assert.ok(
      markdown.includes(`## Routes\n\n${table}\n`),
      `docs/proxy.md's "## Routes" table differs from the code's; it should read:\n\n${table}\n`,
    );
    const localPaths = namesList(LOCAL_ROUTES.map((route) => `\`${route.path}\``));
    assert.ok(
      markdown.includes(`${localPaths} answer \`GET\` and \`HEAD\``),
      `docs/proxy.md says which routes answer GET and HEAD: ${localPaths}`,
    );
  });
});
