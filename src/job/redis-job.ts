/**
 * A shared job on Redis, from a script: the queue behind `aurora-swarm job`, usable with
 * any pool or with your own handler per prompt (a custom pattern behind a shared queue).
 *
 * @example
 * await using job = await RedisJob.open({ url: 'redis://127.0.0.1:6379', name: 'survey' });
 * await job.submit('prompts.jsonl');
 * await using pool = new VLLMPool({ endpoints, proxyUrl: 'http://localhost:9090' });
 * await job.work({ pool, leaseSeconds: 60 });
 * await job.collect('results.jsonl');
 */
import { RedisJobError } from '../errors.js';
import type { PromptFileFormat } from '../run/prompt-file.js';
import { type CollectOptions, type CollectSummary, collectResults } from './collect-results.js';
import { allJobKeys, assertJobName, type JobKeys, jobKeys } from './job-keys.js';
import { type JobStatus, readJobStatus } from './job-status.js';
import {
  JobConnection,
  type JobConnectionOptions,
  REDIS_PASSWORD_ENV_VAR,
  REDIS_URL_ENV_VAR,
} from './redis-connection.js';
import { type SubmitSummary, submitPrompts } from './submit-prompts.js';
import { QueueWorker, type WorkOptions, type WorkSummary } from './work-queue.js';

/** Failed prompts requeued per round trip by `retryFailed`. */
const RETRY_BATCH = 500;

/** Options of {@link RedisJob.open}. */
export interface RedisJobOptions extends Partial<JobConnectionOptions> {
  /** The job's name: 1–100 of `A-Z a-z 0-9 . _ -`. */
  name: string;
  /**
   * Where `url` and `password` fall back to (`AURORA_SWARM_REDIS_URL`,
   * `AURORA_SWARM_REDIS_PASSWORD`). @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/** One job in one Redis. Open with {@link RedisJob.open}; close when done. */
export class RedisJob {
  /** The job's name. */
  readonly name: string;
  /** The connection (its `label` is the URL without the password). */
  readonly connection: JobConnection;
  readonly #keys: JobKeys;

  private constructor(name: string, connection: JobConnection) {
    this.name = name;
    this.connection = connection;
    this.#keys = jobKeys(name);
  }

  /**
   * Connect to Redis for job `name` (which need not exist yet: `submit` creates it).
   * @throws {InvalidOptionError} a bad job name, or no URL at all.
   * @throws {RedisJobError} a malformed URL, nothing answering, a refused password.
   */
  static async open(options: RedisJobOptions): Promise<RedisJob> {
    assertJobName(options.name);
    const env = options.env ?? process.env;
    const url = options.url ?? env[REDIS_URL_ENV_VAR]?.trim();
    if (!url) {
      throw new RedisJobError(
        'ERR_REDIS_URL',
        `no Redis URL: pass one (--redis redis://host:6379) or set ${REDIS_URL_ENV_VAR}`,
      );
    }
    const password = options.password ?? (env[REDIS_PASSWORD_ENV_VAR] || undefined);
    const connection = await JobConnection.open({
      ...options,
      url,
      ...(password === undefined ? {} : { password }),
    });
    return new RedisJob(options.name, connection);
  }

  /** Whether the job exists (something was submitted to it). */
  async exists(): Promise<boolean> {
    return (
      (await this.connection.retry(() => this.connection.client.exists(this.#keys.meta))) === 1
    );
  }

  /** @throws {RedisJobError} `ERR_JOB_NOT_FOUND` */
  async #assertExists(): Promise<void> {
    if (await this.exists()) return;
    throw new RedisJobError(
      'ERR_JOB_NOT_FOUND',
      `no job "${this.name}" in Redis at ${this.connection.label} (create it with: aurora-swarm job submit --job ${this.name} --prompts FILE)`,
    );
  }

  /**
   * Add every prompt of a prompts file (same formats and checks as `run`); ids already in
   * the job with the same text are skipped, so submitting a file again adds nothing.
   * @throws {InputFileError} a malformed file or an id already in the job with another text (nothing written).
   */
  submit(promptsPath: string, options: { format?: PromptFileFormat } = {}): Promise<SubmitSummary> {
    return submitPrompts(this.connection, this.#keys, this.name, promptsPath, options.format);
  }

  /** The job's counts and live workers. @throws {RedisJobError} `ERR_JOB_NOT_FOUND` */
  async status(): Promise<JobStatus> {
    await this.#assertExists();
    return readJobStatus(this.connection, this.#keys, this.name);
  }

  /**
   * Work on the job until every prompt has a result (or `options.signal` stops it).
   * @throws {RedisJobError} `ERR_JOB_NOT_FOUND`
   */
  async work(options: WorkOptions): Promise<WorkSummary> {
    const worker = new QueueWorker(this.connection, this.#keys, options);
    await this.#assertExists();
    return worker.run();
  }

  /**
   * Write every result into a results file in `run`'s format, each prompt once (rerun-safe).
   * @throws {RedisJobError} `ERR_JOB_NOT_FOUND`
   * @throws {InputFileError} when `outPath` cannot be written or is not a results file (run's
   *   rules: it is left as it was).
   * @throws {FileLockedError} when a run or another collect is writing `outPath`.
   */
  async collect(outPath: string, options: CollectOptions = {}): Promise<CollectSummary> {
    await this.#assertExists();
    return collectResults(this.connection, this.#keys, outPath, options);
  }

  /** Put every failed prompt back in the queue. Resolves with how many. @throws {RedisJobError} `ERR_JOB_NOT_FOUND` */
  async retryFailed(): Promise<number> {
    await this.#assertExists();
    const { client } = this.connection;
    let requeued = 0;
    let cursor = '0';
    do {
      const page = await this.connection.retry(() =>
        client.hScan(this.#keys.failed, cursor, { COUNT: RETRY_BATCH }),
      );
      cursor = String(page.cursor);
      const keys = page.entries.map((entry) => String(entry.field));
      if (keys.length > 0) {
        requeued += Number(
          await this.connection.retry(() => client.requeueFailed(this.#keys, keys)),
        );
      }
    } while (cursor !== '0');
    return requeued;
  }

  /** Delete the job and everything it holds in Redis. Resolves with whether it existed. */
  async delete(): Promise<boolean> {
    const removed = await this.connection.retry(() =>
      this.connection.client.del(allJobKeys(this.#keys)),
    );
    return Number(removed) > 0;
  }

  /** Close the connections. Idempotent. */
  close(): Promise<void> {
    return this.connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
