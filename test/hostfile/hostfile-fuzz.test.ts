import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HostfileError } from '../../src/errors.js';
import { formatHostfile } from '../../src/hostfile/format-hostfile.js';
import { parseHostfileText } from '../../src/hostfile/parse-hostfile-text.js';

// Characters people (and broken scripts) put in hostfiles, weighted towards the
// separators and punctuation that change meaning.
const hostfileCharacter = fc.constantFrom(
  ...'ab-_.:=#[]@/?%\\ \t\r\n019'.split(''),
  '\u00e9',
  '\u0000',
  '\uFEFF',
);
const hostfileText = fc
  .array(hostfileCharacter, { maxLength: 80 })
  .map((characters) => characters.join(''));

test('fuzzed hostfiles give valid endpoints or a line-numbered error, never a crash', () => {
  fc.assert(
    fc.property(hostfileText, (text) => {
      let endpoints: ReturnType<typeof parseHostfileText>;
      try {
        endpoints = parseHostfileText(text, { path: 'fuzz.txt' });
      } catch (error) {
        assert.ok(error instanceof HostfileError, `unexpected ${String(error)}`);
        assert.equal(error.code, 'ERR_HOSTFILE_SYNTAX');
        const lineCount = text.split(/\r\n|\r|\n/).length;
        assert.ok(
          error.lineNumber !== undefined && error.lineNumber >= 1 && error.lineNumber <= lineCount,
        );
        assert.ok(error.message.startsWith(`fuzz.txt:${error.lineNumber}: `));
        return;
      }
      for (const endpoint of endpoints) {
        assert.ok(Number.isInteger(endpoint.port) && endpoint.port >= 1 && endpoint.port <= 65535);
        assert.ok(endpoint.host.length > 0);
        // The URL built from an endpoint must point at exactly that host and port.
        const url = new URL(endpoint.url);
        assert.equal(url.port === '' ? 80 : Number(url.port), endpoint.port);
        assert.equal(url.pathname, '/');
        assert.equal(url.username + url.password + url.search + url.hash, '');
        assert.equal(
          url.hostname.replace(/^\[|\]$/g, ''),
          new URL(
            `http://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}`,
          ).hostname.replace(/^\[|\]$/g, ''),
        );
      }
      // What parses must survive a round trip unchanged: nothing was silently misread.
      assert.deepEqual(parseHostfileText(formatHostfile(endpoints)), endpoints);
    }),
    { numRuns: 3000 },
  );
});

test('generated valid hostfiles parse to exactly what was written', () => {
  const host = fc.oneof(
    fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]([a-z0-9-]{0,6}[a-z0-9])?){0,2}$/),
    fc.ipV4(),
  );
  const tag = fc.tuple(
    fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/),
    fc.stringMatching(/^[a-z0-9=._-]{0,10}$/),
  );
  const line = fc.record({
    host,
    port: fc.integer({ min: 1, max: 65535 }),
    tags: fc.array(tag, { maxLength: 3 }),
    separator: fc.constantFrom('\t', ' ', '  '),
  });
  fc.assert(
    fc.property(
      fc.array(line, { minLength: 1, maxLength: 20 }),
      fc.constantFrom('\n', '\r\n'),
      (lines, newline) => {
        const text = lines
          .map((entry) =>
            [
              entry.host,
              String(entry.port),
              ...entry.tags.map(([key, value]) => `${key}=${value}`),
            ].join(entry.separator),
          )
          .join(newline);
        const endpoints = parseHostfileText(text);
        assert.equal(endpoints.length, lines.length);
        endpoints.forEach((endpoint, index) => {
          const entry = lines[index]!;
          assert.equal(endpoint.host, entry.host);
          assert.equal(endpoint.port, entry.port);
          assert.deepEqual(endpoint.tags, Object.fromEntries(entry.tags));
        });
      },
    ),
    { numRuns: 500 },
  );
});
