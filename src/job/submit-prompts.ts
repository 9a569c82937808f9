/**
 * `job submit`: every prompt of a prompts file into a job's queue, once. Ids are the keys:
 * submitting the same file again adds nothing, and an id that is already in the job with
 * another text is refused (naming the file and line) before anything is written.
 */
import { createHash } from 'node:crypto';
import { InputFileError } from '../errors.js';
import {
  type PromptFileFormat,
  type PromptRecord,
  promptIdKey,
  readPromptFile,
  scanPromptFile,
} from '../run/prompt-file.js';
import { type JobKeys, WORKER_GROUP } from './job-keys.js';
import type { QueuedPrompt } from './job-scripts.js';
import type { JobConnection } from './redis-connection.js';

/** Prompts checked or sent per round trip. */
const BATCH_PROMPTS = 500;
/** Prompt text per submit batch, in bytes (bounds one script call's arguments). */
const BATCH_BYTES = 1 << 20;

/** Version of the job layout in Redis, written to `meta` (a later layout can refuse an older one). */
export const JOB_LAYOUT_VERSION = '1';

/** What {@link submitPrompts} did. */
export interface SubmitSummary {
  /** How the prompts file was read. */
  format: 'jsonl' | 'text';
  /** Prompts in the file. */
  count: number;
  /** Prompts added to the job (new ids). */
  added: number;
  /** Prompts of the file already in the job with the same text (skipped). */
  alreadyInJob: number;
  /** Prompts in the job after this submit, from every file submitted to it. */
  jobTotal: number;
}

/** Digest of a prompt's text: the same id with another digest is a clash. */
export function promptDigest(prompt: string): string {
  return createHash('sha256').update(prompt).digest('base64url').slice(0, 22);
}

function queuedPromptOf(record: PromptRecord): QueuedPrompt {
  return {
    key: promptIdKey(record.id),
    digest: promptDigest(record.prompt),
    line: record.lineNumber,
    prompt: record.prompt,
  };
}

/** The file's prompts in batches, each bounded in count and bytes. */
async function* batches(
  path: string,
  format: PromptFileFormat,
): AsyncGenerator<Array<{ record: PromptRecord; queued: QueuedPrompt }>> {
  let batch: Array<{ record: PromptRecord; queued: QueuedPrompt }> = [];
  let bytes = 0;
  for await (const record of readPromptFile(path, format)) {
    batch.push({ record, queued: queuedPromptOf(record) });
    bytes += Buffer.byteLength(record.prompt);
    if (batch.length >= BATCH_PROMPTS || bytes >= BATCH_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

function clashError(path: string, record: PromptRecord, jobName: string): InputFileError {
  return new InputFileError(
    `${path}:${record.lineNumber}: id ${JSON.stringify(record.id)} is already in job ${jobName} with another prompt (ids must be unique across the files of a job)`,
    { path, lineNumber: record.lineNumber },
  );
}

/**
 * Submit a prompts file to a job (created on first submit).
 * @throws {InputFileError} malformed file, duplicate id in the file, no prompt, or an id
 *   already in the job with another text — all found before anything is written.
 */
export async function submitPrompts(
  connection: JobConnection,
  keys: JobKeys,
  jobName: string,
  path: string,
  format: PromptFileFormat = 'auto',
): Promise<SubmitSummary> {
  const scanned = await scanPromptFile(path, format);
  if (scanned.count === 0) {
    throw new InputFileError(`${path}: no prompts (the file is empty or blank)`, { path });
  }
  const { client } = connection;
  let alreadyInJob = 0;
  for await (const batch of batches(path, scanned.format)) {
    const digests = await connection.retry(() =>
      client.hmGet(
        keys.ids,
        batch.map((entry) => entry.queued.key),
      ),
    );
    batch.forEach((entry, index) => {
      const existing = digests[index];
      if (existing === null || existing === undefined) return;
      if (existing !== entry.queued.digest) throw clashError(path, entry.record, jobName);
      alreadyInJob++;
    });
  }
  if (alreadyInJob < scanned.count) {
    await connection.retry(async () => {
      try {
        await client.xGroupCreate(keys.queue, WORKER_GROUP, '0', { MKSTREAM: true });
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
      }
    });
    await connection.retry(() =>
      client
        .multi()
        .hSetNX(keys.meta, 'created_at', new Date().toISOString())
        .hSetNX(keys.meta, 'version', JOB_LAYOUT_VERSION)
        .hSetNX(keys.meta, 'total', '0')
        .exec(),
    );
  }
  let added = 0;
  if (alreadyInJob < scanned.count) {
    for await (const batch of batches(path, scanned.format)) {
      const [batchAdded, clashIndex] = await connection.retry(() =>
        client.submitBatch(
          keys,
          batch.map((entry) => entry.queued),
        ),
      );
      added += Number(batchAdded);
      const clash = batch[Number(clashIndex)];
      // Another submit of a clashing file ran between the check and this write.
      if (clash !== undefined) throw clashError(path, clash.record, jobName);
    }
  }
  const jobTotal = Number(await connection.retry(() => client.hLen(keys.ids)));
  return { format: scanned.format, count: scanned.count, added, alreadyInJob, jobTotal };
}
