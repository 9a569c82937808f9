import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { ensurePrivateDirectory } from '../../src/internal/private-directory.js';
import {
  defaultProxyTokenFile,
  loadOrCreateProxyToken,
  readProxyTokenFile,
} from '../../src/internal/proxy-token-file.js';

function scratch(t: TestContext): string {
  const directory = mkdtempSync(join(tmpdir(), 'token-file-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the proxy token file', () => {
  test('--token auto writes a strong token with mode 0600 in a 0700 directory, then reuses it', (t) => {
    const home = scratch(t);
    const path = defaultProxyTokenFile({ HOME: home });
    assert.equal(path, join(home, '.aurora-swarm', 'proxy-token'));
    const created = loadOrCreateProxyToken(path);
    assert.equal(created.kind, 'token');
    if (created.kind !== 'token') return;
    assert.equal(created.created, true);
    assert.match(created.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(mode(path), 0o600);
    assert.equal(mode(join(home, '.aurora-swarm')), 0o700);
    assert.equal(readFileSync(path, 'utf8'), `${created.token}\n`);
    // A restart (or a second proxy) keeps the token its clients already have.
    const again = loadOrCreateProxyToken(path);
    assert.deepEqual(again, { kind: 'token', token: created.token, created: false });
    assert.deepEqual(readProxyTokenFile(path), { kind: 'token', token: created.token });
    // Another run gets another token.
    const other = loadOrCreateProxyToken(join(home, 'elsewhere', 'token'));
    assert.ok(other.kind === 'token' && other.token !== created.token);
  });

  test('a token file others can read, or one that holds no token, is refused, not replaced', (t) => {
    const directory = scratch(t);
    const path = join(directory, 'token');
    writeFileSync(path, 'abc\n', { mode: 0o644 });
    chmodSync(path, 0o644);
    const loose = loadOrCreateProxyToken(path);
    assert.equal(loose.kind, 'problem');
    assert.match(
      loose.kind === 'problem' ? loose.problem : '',
      /can be read by other users \(mode 644\): run chmod 600 .*token, or delete it/,
    );
    assert.equal(readFileSync(path, 'utf8'), 'abc\n');
    chmodSync(path, 0o600);
    writeFileSync(path, '\n');
    const empty = loadOrCreateProxyToken(path);
    assert.match(empty.kind === 'problem' ? empty.problem : '', /does not hold a token/);
    assert.deepEqual(readProxyTokenFile(join(directory, 'absent')), { kind: 'missing' });
  });

  test('directories other users can write in are refused (they could swap the file)', (t) => {
    const directory = scratch(t);
    const shared = join(directory, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    assert.match(
      ensurePrivateDirectory(shared) ?? '',
      /can be written by other users \(mode 777\)/,
    );
    chmodSync(shared, 0o1777);
    assert.match(ensurePrivateDirectory(shared) ?? '', /mode 1777/);
    chmodSync(shared, 0o770);
    assert.match(ensurePrivateDirectory(shared) ?? '', /mode 770/);
    chmodSync(shared, 0o755);
    assert.equal(ensurePrivateDirectory(shared), undefined);
    const created = loadOrCreateProxyToken(join(directory, 'open', 'token'));
    assert.equal(created.kind, 'token', 'a missing directory is created, 0700');
    chmodSync(join(directory, 'open'), 0o777);
    const refused = loadOrCreateProxyToken(join(directory, 'open', 'token'));
    assert.equal(refused.kind, 'problem');
    writeFileSync(join(directory, 'file'), '');
    assert.match(ensurePrivateDirectory(join(directory, 'file')) ?? '', /is not a directory/);
  });
});
