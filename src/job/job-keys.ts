/**
 * Where a shared job lives in Redis. Every key of job NAME starts with
 * `aurora-swarm:job:{NAME}:`; the braces are a Redis Cluster hash tag, so all keys of one
 * job land on one shard and the job's Lua scripts stay legal there.
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';

/** Key prefix of every job. */
export const JOB_KEY_PREFIX = 'aurora-swarm:job:';

/** Name of the one consumer group every worker of a job reads the queue through. */
export const WORKER_GROUP = 'workers';

/** Job names: what is safe in a key, a shell and a file name. */
const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The keys of one job. */
export interface JobKeys {
  /** Hash: `created_at`, `total`, `done`, `succeeded`, `failed`, `trimmed`, `version`. */
  readonly meta: string;
  /** Hash: prompt id key → digest of the prompt text (every prompt ever submitted). */
  readonly ids: string;
  /** Stream of prompts to do (`k` id key, `l` line, `p` prompt); read by the group `workers`. */
  readonly queue: string;
  /** Hash: prompt id key → `s` (succeeded) or `f` (failed): the prompts with a result. */
  readonly done: string;
  /** Hash: failed prompt id key → `<queue entry id> <results entry id>`, for `retry-failed`. */
  readonly failed: string;
  /** Stream of results (`k` id key, `r` the results.jsonl line), in completion order. */
  readonly results: string;
  /** Hash: worker (consumer) name → `<server ms of last heartbeat> <JSON>`. */
  readonly workers: string;
}

/**
 * Check a job name.
 * @throws {InvalidOptionError} for anything but 1–100 of `A-Z a-z 0-9 . _ -`, not starting with `.`, `_` or `-`.
 */
export function assertJobName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !JOB_NAME.test(name)) {
    throw new InvalidOptionError(
      `job name must be 1 to 100 letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${describeValue(name)}`,
    );
  }
}

/** The keys of job `name` (checked with {@link assertJobName}). */
export function jobKeys(name: string): JobKeys {
  assertJobName(name);
  const base = `${JOB_KEY_PREFIX}{${name}}:`;
  return {
    meta: `${base}meta`,
    ids: `${base}ids`,
    queue: `${base}queue`,
    done: `${base}done`,
    failed: `${base}failed`,
    results: `${base}results`,
    workers: `${base}workers`,
  };
}

/** Every key of a job, for `delete`. */
export function allJobKeys(keys: JobKeys): string[] {
  return [keys.meta, keys.ids, keys.queue, keys.done, keys.failed, keys.results, keys.workers];
}
