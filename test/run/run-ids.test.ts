/**
 * Prompt ids are kept in a compact exact set (src/internal/compact-string-set.ts). These tests
 * force every id onto one hash, so that each duplicate check, resume skip and results-file
 * rewrite must be decided by comparing the ids' bytes: equal hashes never make two ids one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { InputFileError } from '../../src/errors.js';
import { CompactStringSet } from '../../src/internal/compact-string-set.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { scanPromptFile, scanPromptIds } from '../../src/run/prompt-file.js';
import { readPreviousResults } from '../../src/run/result-file.js';
import { runPromptFile } from '../../src/run/run-prompt-file.js';

const oneHash = () => new CompactStringSet(undefined, () => 42);
const SERVED_MODEL = 'meta-llama/Llama-3.1-70B-Instruct';

function temporaryDirectory(t: TestContext): string {
  const directory = mkdtempSync(join(tmpdir(), 'run-ids-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function promptLines(ids: readonly (string | number)[]): string {
  return ids.map((id) => `${JSON.stringify({ id, prompt: `prompt ${id}` })}\n`).join('');
}

function resultLine(id: string | number, success = true): string {
  return `${JSON.stringify(
    success
      ? { id, success, text: `answer ${id}`, agent: 0, line: 1 }
      : { id, success, error: 'x', failure_kind: 'timeout', agent: 0, line: 1 },
  )}\n`;
}

describe('prompt ids on one hash', () => {
  test('distinct ids are not duplicates; a real duplicate is found with its first line', async (t) => {
    const directory = temporaryDirectory(t);
    const ids = [...Array.from({ length: 150 }, (_, index) => `p${index}`), 1, '1', 'é', 'e'];
    const path = join(directory, 'prompts.jsonl');
    writeFileSync(path, promptLines(ids));
    const scanned = await scanPromptIds(path, 'auto', oneHash);
    assert.equal(scanned.count, ids.length);
    assert.ok(scanned.ids.has('#1') && scanned.ids.has('"1'), '1 and "1" are two ids');

    const duplicated = join(directory, 'duplicated.jsonl');
    writeFileSync(duplicated, promptLines([...ids, 'p77']));
    await assert.rejects(scanPromptIds(duplicated, 'auto', oneHash), (error: unknown) => {
      assert.ok(error instanceof InputFileError);
      assert.equal(error.lineNumber, ids.length + 1);
      assert.match(error.message, /duplicate id "p77" \(first on line 78\)/);
      return true;
    });
    // The public scan says the same with the real hash.
    await assert.rejects(scanPromptFile(duplicated), /duplicate id "p77" \(first on line 78\)/);
    assert.deepEqual(
      [...((await scanPromptFile(path, 'auto', { keepIds: true })).ids ?? [])],
      [...scanned.ids],
    );
  });

  test('a results file: duplicate lines removed, distinct ids kept, exactly', async (t) => {
    const path = join(temporaryDirectory(t), 'out.jsonl');
    const ids = Array.from({ length: 60 }, (_, index) => `r${index}`);
    writeFileSync(
      path,
      [
        ...ids.map((id) => resultLine(id)),
        resultLine('r5'),
        resultLine(5),
        resultLine('r7', false),
        resultLine('late', false),
        resultLine('late'),
      ].join(''),
    );
    const previous = await readPreviousResults(path, { retryFailed: true }, oneHash);
    assert.equal(previous.duplicates, 2, 'r5 and r7 a second time');
    assert.equal(previous.retried, 1, 'the failure of "late" is dropped, its success kept');
    assert.deepEqual([...previous.finished], [...ids.map((id) => `"${id}`), '#5', '"late']);
    const kept = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).id);
    assert.deepEqual(kept, [...ids, 5, 'late']);
  });

  test('a rerun sends exactly the prompts without a result, whatever the hashes say', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const directory = temporaryDirectory(t);
    const ids = Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? `q${index}` : index));
    const prompts = join(directory, 'prompts.jsonl');
    writeFileSync(prompts, promptLines(ids));
    const out = join(directory, 'out.jsonl');
    // Done earlier: the first 15, plus results of another prompts file ("q1" is not 1).
    writeFileSync(
      out,
      [...ids.slice(0, 15).map((id) => resultLine(id)), resultLine('q1'), resultLine('x')].join(''),
    );
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: SERVED_MODEL,
      modelMaxContext: 8192,
      proxyUrl: null,
    });
    const requestsBefore = swarm.agents.reduce((sum, agent) => sum + agent.stats.requests, 0);
    let plan:
      | Parameters<NonNullable<Parameters<typeof runPromptFile>[0]['onStart']>>[0]
      | undefined;
    const summary = await runPromptFile({
      pool,
      promptsPath: prompts,
      outPath: out,
      idSet: oneHash,
      onStart: (started) => {
        plan = started;
      },
    });
    assert.equal(plan?.alreadyDone, 15);
    assert.equal(plan?.unmatched, 2);
    assert.equal(plan?.toRun, 25);
    assert.equal(summary.done, 25);
    const sent = swarm.agents.reduce((sum, agent) => sum + agent.stats.requests, 0);
    assert.equal(sent - requestsBefore, 25, 'one request per prompt without a result');
    const records = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string | number });
    const written = records.slice(17).map((record) => record.id);
    assert.deepEqual(
      [...written].sort((a, b) => String(a).localeCompare(String(b))),
      ids.slice(15).sort((a, b) => String(a).localeCompare(String(b))),
    );
  });
});
