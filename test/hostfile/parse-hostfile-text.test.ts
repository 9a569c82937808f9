import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HostfileError } from '../../src/errors.js';
import { formatHostfile } from '../../src/hostfile/format-hostfile.js';
import { parseHostfile } from '../../src/hostfile/parse-hostfile.js';
import { parseHostfileText } from '../../src/hostfile/parse-hostfile-text.js';

function syntaxError(text: string, lineNumber: number, pattern: RegExp) {
  assert.throws(
    () => parseHostfileText(text, { path: 'hosts.txt' }),
    (error: unknown) => {
      assert.ok(error instanceof HostfileError);
      assert.equal(error.code, 'ERR_HOSTFILE_SYNTAX');
      assert.equal(error.lineNumber, lineNumber);
      assert.match(error.message, new RegExp(`^hosts\\.txt:${lineNumber}: `));
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('parseHostfileText', () => {
  test('parses the usage guide example with tags', () => {
    const endpoints = parseHostfileText(
      'compute-001\t8000\ncompute-002\t8000\ncompute-003\t8000\tnode=aurora-0003\trole=worker\n',
    );
    assert.equal(endpoints.length, 3);
    assert.deepEqual(endpoints[2], {
      host: 'compute-003',
      port: 8000,
      tags: { node: 'aurora-0003', role: 'worker' },
      url: 'http://compute-003:8000',
    });
  });

  test('skips blank and comment lines, accepts CRLF and a BOM', () => {
    const endpoints = parseHostfileText(
      '\uFEFF# agents\r\n\r\n  # indented comment\r\nhost-a\t9001\r\n   \r\nhost-b\t9002\r\n',
    );
    assert.deepEqual(
      endpoints.map((endpoint) => [endpoint.host, endpoint.port]),
      [
        ['host-a', 9001],
        ['host-b', 9002],
      ],
    );
  });

  test('missing port means 8000, also when tags follow', () => {
    const [bare, tagged] = parseHostfileText('node-1\nnode-2\trole=critic\n');
    assert.equal(bare?.port, 8000);
    assert.equal(tagged?.port, 8000);
    assert.deepEqual(tagged?.tags, { role: 'critic' });
  });

  test('tolerates spaces as separators and host:port', () => {
    const endpoints = parseHostfileText(
      'node-1   8001  role=a\nnode-2:8002 role=b\n10.0.0.5:8003\n',
    );
    assert.deepEqual(
      endpoints.map((endpoint) => [endpoint.host, endpoint.port, endpoint.tags.role]),
      [
        ['node-1', 8001, 'a'],
        ['node-2', 8002, 'b'],
        ['10.0.0.5', 8003, undefined],
      ],
    );
  });

  test('tags split at the first "=" and later duplicates win', () => {
    const [endpoint] = parseHostfileText('h\t1\tk=a=b\tk2=x\tk2=y\tempty=\n');
    assert.deepEqual(endpoint?.tags, { k: 'a=b', k2: 'y', empty: '' });
  });

  test('IPv6 hosts in brackets, with and without a port', () => {
    const endpoints = parseHostfileText('[::1]:8001\n[::1]\t8002\n::1\n');
    assert.deepEqual(
      endpoints.map((endpoint) => endpoint.url),
      ['http://[::1]:8001', 'http://[::1]:8002', 'http://[::1]:8000'],
    );
  });

  test('comments: a # field ends a whitespace line; in a tab line only a whole # field is one', () => {
    const [spaced] = parseHostfileText('h 8000 role=a # spare node\n');
    assert.deepEqual(spaced?.tags, { role: 'a' });
    // Tab lines are split on tabs only, as the Python original: the # is part of the value...
    const [tabbed] = parseHostfileText('h\t8000\trole=a # spare node\n');
    assert.deepEqual(tabbed?.tags, { role: 'a # spare node' });
    // ...and a field that starts with # is skipped, the fields after it still read.
    const [commented] = parseHostfileText('h\t8000\t# spare node\trole=b\n');
    assert.deepEqual(commented?.tags, { role: 'b' });
  });

  test('tab lines keep spaces inside tag values and keys, as the Python original', () => {
    const [endpoint] = parseHostfileText('node-1\t6739\tdesc=big node\tmy key= spaced \n');
    assert.equal(endpoint?.host, 'node-1');
    assert.equal(endpoint?.port, 6739);
    assert.deepEqual(endpoint?.tags, { desc: 'big node', 'my key': ' spaced' });
    // Empty fields (double tabs to align columns) are nothing; no port → 8000, tags from field 2.
    assert.deepEqual(parseHostfileText('h\t\t\trole=x\t\tn=1')[0]?.tags, { role: 'x', n: '1' });
    assert.equal(parseHostfileText('h\trole=x')[0]?.port, 8000);
    // CR alone ends a line too (Python's universal newlines).
    assert.deepEqual(
      parseHostfileText('a\t1\rb\t2\r').map((e) => e.port),
      [1, 2],
    );
  });

  test('what the Python parser silently misreads is an error here', () => {
    syntaxError('h\tabc\n', 1, /expected a port .* got "abc"/); // Python: port 8000
    syntaxError('h\t 9000\n', 1, /got " 9000"/); // Python: port 8000
    syntaxError('h\t\t9000\n', 1, /port must be the second field, got an empty second/); // 8000
    syntaxError('h\t8000\tspare\n', 1, /expected a key=value tag, got "spare"/); // dropped
    syntaxError('big node\t8000\n', 1, /host "big node" contains whitespace/);
    syntaxError('h  \t8000\n', 1, /host "h {2}" contains whitespace/);
    syntaxError('h\t8000\t=v\n', 1, /empty key/); // Python: tag ''
  });

  test('line-numbered errors for bad input', () => {
    syntaxError('ok\t1\nh\t0\n', 2, /port 0 is out of range 1-65535/);
    syntaxError('h\t65536\n', 1, /out of range/);
    syntaxError('\n\nh\t80a\n', 3, /expected a port .* got "80a"/);
    syntaxError('h:\n', 1, /port "" is not an integer/);
    syntaxError(':8000\n', 1, /empty host/);
    syntaxError('h\t8000\tnotatag\n', 1, /expected a key=value tag, got "notatag"/);
    syntaxError('h\t8000\t9000\n', 1, /expected a key=value tag, got "9000"/);
    syntaxError('h\t8000\t=v\n', 1, /empty key/);
    syntaxError('h:8000\t8001\n', 1, /port given twice/);
    syntaxError('evil@host\t8000\n', 1, /invalid host/);
    syntaxError('host/path\t8000\n', 1, /invalid host/);
    syntaxError('[::1\t8000\n', 1, /unclosed/);
    syntaxError('[:a:]\t8000\n', 1, /invalid IPv6 address/);
    syntaxError('10.1\t8000\n', 1, /not an IPv4 address/);
    syntaxError('node.09\t8000\n', 1, /not an IPv4 address/);
  });

  test('formatHostfile round-trips', () => {
    const text = 'a\t1\tx=1\n[::1]\t2\nb\t3\n';
    const endpoints = parseHostfileText(text);
    assert.equal(formatHostfile(endpoints), text);
    assert.deepEqual(parseHostfileText(formatHostfile(endpoints)), endpoints);
  });
});

describe('parseHostfile', () => {
  test('reads a file and names it in errors', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'hostfile-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const path = join(directory, 'hosts.txt');
    writeFileSync(path, 'a\t1\n');
    assert.equal(parseHostfile(path).length, 1);
    writeFileSync(path, 'a\t1\nb\tx\n');
    assert.throws(() => parseHostfile(path), new RegExp(`${path}:2: `));
  });

  test('a missing file is ERR_HOSTFILE_NOT_FOUND', () => {
    assert.throws(
      () => parseHostfile('/nonexistent/hosts.txt'),
      (error: unknown) =>
        error instanceof HostfileError &&
        error.code === 'ERR_HOSTFILE_NOT_FOUND' &&
        /cannot read hostfile \/nonexistent\/hosts.txt: no such file/.test(error.message),
    );
  });
});
