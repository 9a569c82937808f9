import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { InputFileError } from '../../src/errors.js';
import { type PromptRecord, readPromptFile, scanPromptFile } from '../../src/run/prompt-file.js';
import { loadPreviousResults, ResultWriter } from '../../src/run/result-file.js';

function temporaryDirectory(t: TestContext): string {
  const directory = mkdtempSync(join(tmpdir(), 'run-files-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

async function readAll(path: string): Promise<PromptRecord[]> {
  const records: PromptRecord[] = [];
  for await (const record of readPromptFile(path)) records.push(record);
  return records;
}

async function assertInputError(promise: Promise<unknown>, lineNumber: number, pattern: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputFileError, String(error));
    assert.equal(error.code, 'ERR_INPUT_FILE');
    assert.equal(error.lineNumber, lineNumber);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('prompts files', () => {
  test('plain text: one prompt a line, id = line number, blank lines skipped, CRLF', async (t) => {
    const path = join(temporaryDirectory(t), 'prompts.txt');
    writeFileSync(path, '\uFEFFfirst prompt\r\n\r\nsecond {not json}\r\n');
    assert.deepEqual(
      (await readAll(path)).map((record) => [record.id, record.prompt]),
      [
        [1, 'first prompt'],
        [3, 'second {not json}'],
      ],
    );
    assert.deepEqual(await scanPromptFile(path), { format: 'text', count: 2 });
  });

  test('JSONL: ids as written, missing id = line number', async (t) => {
    const path = join(temporaryDirectory(t), 'prompts.jsonl');
    writeFileSync(
      path,
      '{"id": "a", "prompt": "x"}\n{"prompt": "y"}\n{"id": 7, "prompt": "z", "extra": true}\n',
    );
    assert.deepEqual(
      (await readAll(path)).map((record) => [record.id, record.prompt]),
      [
        ['a', 'x'],
        [2, 'y'],
        [7, 'z'],
      ],
    );
    assert.deepEqual(await scanPromptFile(path), { format: 'jsonl', count: 3 });
  });

  test('malformed lines and duplicate ids are line-numbered errors', async (t) => {
    const directory = temporaryDirectory(t);
    const cases: Array<[string, number, RegExp]> = [
      ['{"prompt": "a"}\n{"prompt": 3}\n', 2, /:2: "prompt" must be a string, got 3/],
      ['{"prompt": "a"}\n{oops\n', 2, /:2: not valid JSON/],
      ['{"prompt": "a"}\n[1]\n', 2, /expected a JSON object/],
      ['{"prompt": "a", "id": {"x": 1}}\n', 1, /"id" must be a string or a number/],
      [
        '{"id": "a", "prompt": "a"}\n\n{"id": "a", "prompt": "b"}\n',
        3,
        /duplicate id "a" \(first on line 1\)/,
      ],
    ];
    for (const [index, [text, lineNumber, pattern]] of cases.entries()) {
      const path = join(directory, `bad-${index}.jsonl`);
      writeFileSync(path, text);
      await assertInputError(scanPromptFile(path), lineNumber, pattern);
    }
  });

  test('a missing file is a clear error', async () => {
    await assert.rejects(
      scanPromptFile('/nonexistent/prompts.txt'),
      /cannot read prompts file \/nonexistent\/prompts.txt/,
    );
  });
});

describe('results files', () => {
  test('a missing file means nothing is finished', async (t) => {
    const previous = await loadPreviousResults(join(temporaryDirectory(t), 'none.jsonl'), {
      retryFailed: true,
    });
    assert.equal(previous.finished.size, 0);
  });

  test('resume keeps successes, drops failures to retry and a torn last line, so every id stays unique', async (t) => {
    const path = join(temporaryDirectory(t), 'out.jsonl');
    const writer = new ResultWriter(path);
    await writer.write({ id: 'a', success: true, text: 'A', agent: 0, line: 1 });
    await writer.write({
      id: 2,
      success: false,
      error: 'timeout after 5 ms',
      failure_kind: 'timeout',
      agent: 1,
      line: 2,
    });
    await writer.write({ id: 'c', success: true, text: 'C', agent: 2, line: 3 });
    await writer.close();
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"id": "d", "succ`);

    const previous = await loadPreviousResults(path, { retryFailed: true });
    assert.deepEqual([...previous.finished].sort(), ['"a', '"c']);
    assert.equal(previous.retried, 1);
    assert.equal(previous.torn, 1);
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.at(-1), '', 'ends with a newline');
    assert.deepEqual(
      lines.slice(0, -1).map((line) => JSON.parse(line).id),
      ['a', 'c'],
    );

    // Appending after the rewrite gives well-formed lines.
    const again = new ResultWriter(path);
    await again.write({ id: 2, success: true, text: 'B', agent: 1, line: 2 });
    await again.close();
    assert.deepEqual(
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).id),
      ['a', 'c', 2],
    );
  });

  test('with retryFailed false, failures count as finished and the file is left alone', async (t) => {
    const path = join(temporaryDirectory(t), 'out.jsonl');
    const text =
      '{"id":1,"success":false,"error":"x","agent":0,"line":1}\n{"id":2,"success":true,"text":"y","agent":0,"line":2}\n';
    writeFileSync(path, text);
    const previous = await loadPreviousResults(path, { retryFailed: false });
    assert.deepEqual([...previous.finished], ['#1', '#2']);
    assert.equal(previous.keptFailures, 1);
    assert.equal(readFileSync(path, 'utf8'), text);
  });

  test('a valid last line without its newline is kept and the newline restored', async (t) => {
    const path = join(temporaryDirectory(t), 'out.jsonl');
    writeFileSync(path, '{"id":1,"success":true,"text":"y","agent":0,"line":1}');
    const previous = await loadPreviousResults(path, { retryFailed: true });
    assert.equal(previous.kept, 1);
    assert.equal(
      readFileSync(path, 'utf8'),
      '{"id":1,"success":true,"text":"y","agent":0,"line":1}\n',
    );
  });
});
