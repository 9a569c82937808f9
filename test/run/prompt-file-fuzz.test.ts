import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { InputFileError } from '../../src/errors.js';
import {
  type PromptRecord,
  promptIdKey,
  readPromptFile,
  scanPromptFile,
} from '../../src/run/prompt-file.js';

const directory = mkdtempSync(join(tmpdir(), 'prompt-fuzz-'));
test.after(() => rmSync(directory, { recursive: true, force: true }));
let fileNumber = 0;

function writeFile(text: string): string {
  const path = join(directory, `prompts-${fileNumber++}.txt`);
  writeFileSync(path, text);
  return path;
}

async function readAll(path: string): Promise<PromptRecord[]> {
  const records: PromptRecord[] = [];
  for await (const record of readPromptFile(path)) records.push(record);
  return records;
}

// Characters that change how a line is read: JSON punctuation, quotes, escapes,
// line breaks of every kind, BOM, NUL, non-ASCII.
const character = fc.constantFrom(
  ...'{}[]":,\\ \t\r\nab01-.eE'.split(''),
  'id',
  'prompt',
  'null',
  'true',
  '\u2028',
  '\uFEFF',
  '\u0000',
  '\u00e9',
  '\ud83d\ude00',
);
const fuzzedText = fc.array(character, { maxLength: 120 }).map((parts) => parts.join(''));

test('fuzzed prompts files give records or a line-numbered InputFileError, never a crash', async () => {
  await fc.assert(
    fc.asyncProperty(fuzzedText, async (text) => {
      const path = writeFile(text);
      const lineCount = text.split(/\r?\n|\r/).length;
      try {
        const records = await readAll(path);
        for (const record of records) {
          assert.ok(record.lineNumber >= 1 && record.lineNumber <= lineCount);
          assert.equal(typeof record.prompt, 'string');
          assert.ok(typeof record.id === 'string' || Number.isFinite(record.id));
          if (record.format === 'text') assert.notEqual(record.prompt.trim(), '');
        }
        const lineNumbers = records.map((record) => record.lineNumber);
        assert.deepEqual(
          lineNumbers,
          [...lineNumbers].sort((a, b) => a - b),
        );
      } catch (error) {
        assert.ok(error instanceof InputFileError, `unexpected ${String(error)}`);
        assert.ok(
          error.lineNumber !== undefined && error.lineNumber >= 1 && error.lineNumber <= lineCount,
          error.message,
        );
        assert.ok(error.message.startsWith(`${path}:${error.lineNumber}: `), error.message);
      }
      // scanPromptFile agrees with readPromptFile, or fails with a line number too.
      try {
        await scanPromptFile(path);
      } catch (error) {
        assert.ok(error instanceof InputFileError, `unexpected ${String(error)}`);
        assert.ok(error.lineNumber !== undefined && error.lineNumber >= 1);
      }
    }),
    { numRuns: 300 },
  );
});

test('generated valid JSONL files read back exactly as written (round trip)', async () => {
  const prompt = fc.string({ unit: 'binary', maxLength: 40 });
  const id = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  const entry = fc.record({ id: fc.option(id, { nil: undefined }), prompt });
  await fc.assert(
    fc.asyncProperty(
      fc.array(entry, { minLength: 1, maxLength: 15 }),
      fc.constantFrom('\n', '\r\n'),
      fc.boolean(),
      async (entries, newline, blankLines) => {
        const lines = entries.map((item) => JSON.stringify(item));
        const text = lines.join(blankLines ? `${newline}${newline}` : newline) + newline;
        const path = writeFile(text);
        const records = await readAll(path);
        assert.equal(records.length, entries.length);
        records.forEach((record, index) => {
          const item = entries[index]!;
          const lineNumber = blankLines ? index * 2 + 1 : index + 1;
          assert.equal(record.format, 'jsonl');
          assert.equal(record.lineNumber, lineNumber);
          assert.equal(record.prompt, item.prompt);
          // JSON has one zero: -0 is written as 0.
          const expectedId =
            item.id === undefined ? lineNumber : Object.is(item.id, -0) ? 0 : item.id;
          assert.equal(record.id, expectedId);
        });
        const keys = new Set(records.map((record) => promptIdKey(record.id)));
        if (keys.size === records.length) {
          assert.deepEqual(await scanPromptFile(path), { format: 'jsonl', count: records.length });
        } else {
          await assert.rejects(scanPromptFile(path), /duplicate id/);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('generated plain-text files read back line for line', async () => {
  const line = fc
    .string({ unit: 'grapheme', maxLength: 30 })
    .filter(
      (text) =>
        !/[\r\n\u2028\u2029\u0085]/.test(text) &&
        text.trim() !== '' &&
        !text.trimStart().startsWith('{'),
    );
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 15 }), async (lines) => {
      const path = writeFile(`${lines.join('\n')}\n`);
      const records = await readAll(path);
      assert.deepEqual(
        records.map((record) => [record.id, record.prompt, record.format]),
        lines.map((text, index) => [
          index + 1,
          index === 0 ? text.replace(/^\uFEFF/, '') : text,
          'text',
        ]),
      );
    }),
    { numRuns: 200 },
  );
});
