/**
 * `job work`: one worker of a shared job. It leases prompts from the job's queue (a Redis
 * Stream read through one consumer group), sends them to its own swarm, records each result
 * as it completes, and returns when every prompt of the job has a result.
 *
 * Leases are the consumer group's pending entries. A live worker renews its own every third
 * of the lease (XCLAIM JUSTID resets their idle time); a worker that died (kill -9,
 * walltime, lost node) stops renewing, and once an entry has been idle for a whole lease
 * any other worker takes it over (the `claimExpired` script: XPENDING IDLE + XCLAIM, which
 * counts a delivery). Delivery is therefore at least once, and bounded: an entry delivered
 * `maxDeliveries` times without a result is recorded as failed instead (`delivery-limit`).
 * A worker stopping in order hands its entries back without counting the delivery. The
 * result is recorded at most once (HSETNX on the prompt's key in one script with the
 * acknowledgement), which is what makes `collect` exactly once.
 *
 * Outages of the worker's swarm are waited out with run's `OutageGuard`; consumers of dead
 * workers that hold nothing are deleted from the group every few leases.
 *
 * Memory: the prompts held (at most the window plus one small batch), never the job.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AbortedError, InvalidOptionError, OutageTimeoutError, RedisJobError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { linkAbortController } from '../internal/linked-abort-controller.js';
import { sleep } from '../internal/sleep.js';
import { MAX_TIMER_DELAY_MS } from '../internal/timer-limit.js';
import { runWindowed } from '../internal/windowed-stream.js';
import type { AgentResponse, CallOptions, DispatchPolicy, SwarmPool } from '../pool/types.js';
import {
  DEFAULT_OUTAGE_TIMEOUT_MS,
  OutageGuard,
  type OutageNotice,
  type OutageProbe,
} from '../run/outage-guard.js';
import { type ResultRecord, toResultRecord } from '../run/result-file.js';
import { SwarmReachability } from '../run/swarm-reachability.js';
import { type JobKeys, WORKER_GROUP } from './job-keys.js';
import { type JobPrompt, jobPromptOf } from './job-result-record.js';
import type { JobConnection } from './redis-connection.js';

/** Default lease of a prompt held by a worker, in seconds (`--lease`). */
export const DEFAULT_LEASE_SECONDS = 60;
/** Default deliveries without a result after which a prompt is recorded as failed (`--max-deliveries`). */
export const DEFAULT_MAX_DELIVERIES = 5;
/** A consumer of the group with nothing pending and silent for this many leases is forgotten. */
const FORGET_CONSUMER_AFTER_LEASES = 5;
/** Default prompts a worker has in flight at once (`--concurrency`) when it has no pool to ask. */
export const DEFAULT_WORKER_CONCURRENCY = 64;
/** Longest wait of one blocking read of the queue, in milliseconds. */
const MAX_BLOCK_MS = 1000;
/** Longest pause between two heartbeats, in milliseconds. */
const MAX_HEARTBEAT_MS = 5000;
/** Heartbeats kept for a worker's recent rate. */
const RATE_SAMPLES = 6;

/** Sends one prompt and resolves with the answer (or the failure as a value). */
export type JobPromptHandler = (prompt: JobPrompt, signal: AbortSignal) => Promise<AgentResponse>;

/** Options of a worker. Give `pool` (prompt i to agent i % size) or your own `handler`. */
export interface WorkOptions {
  /** The swarm this worker sends to: each prompt to the next agent in turn (see `dispatch`). */
  pool?: SwarmPool;
  /**
   * How `pool` is used: `round-robin`, each prompt to the next agent in turn, or
   * `least-loaded`, each to the agent with the fewest calls in flight (the pool's
   * `postLeastLoaded`: open circuit breakers skipped, failover on connection failures).
   * @default 'round-robin'
   */
  dispatch?: DispatchPolicy;
  /** Instead of `pool`: your own handling of one prompt (a pattern, a chain of calls…). */
  handler?: JobPromptHandler;
  /** Most prompts in flight at once. @default the pool's concurrency, else DEFAULT_WORKER_CONCURRENCY */
  concurrency?: number;
  /** Options of each pool call (max tokens, timeout). */
  callOptions?: Omit<CallOptions, 'signal'>;
  /** Lease of a held prompt, in seconds: another worker takes it over when it is not renewed for this long. @default DEFAULT_LEASE_SECONDS */
  leaseSeconds?: number;
  /**
   * Deliveries after which a prompt without a result is recorded as failed
   * (`failure_kind: 'delivery-limit'`) instead of being sent again: a prompt that crashes or
   * stalls every worker it is given to must not be re-delivered after every lease forever.
   * A delivery counts when its worker died or stalled (kill -9, a crash, a lost node, a
   * hung process); a worker that stops in order (a signal, an outage) hands its prompts
   * back without counting. The worker that takes the expired lease over decides.
   * @default DEFAULT_MAX_DELIVERIES
   */
  maxDeliveries?: number;
  /**
   * How the worker tells an outage of its whole swarm (its proxy, or every agent) from a
   * failed prompt, as `aurora-swarm run` does (run/outage-guard.ts): a failure without any
   * HTTP answer is checked with this probe; if the probe fails too, the prompts held wait —
   * leases kept, nothing recorded, nothing new leased — and are sent again once it answers.
   * `false`: every failure is the prompt's.
   * @default with `pool`, a `SwarmReachability` of the pool (its proxy's `/health`, or
   * directly its agents'); with `handler`, none
   */
  outage?: OutageProbe | false;
  /**
   * Longest outage waited out, in milliseconds: of the swarm (then the worker stops as
   * interrupted, `stopReason: 'outage'`, and hands its prompts back), or of Redis (then it
   * throws `OutageTimeoutError`; its leases run out and pass to other workers).
   * @default DEFAULT_OUTAGE_TIMEOUT_MS
   */
  outageTimeoutMs?: number;
  /** The swarm stopped answering, answers again, or stayed away longer than `outageTimeoutMs`. */
  onOutage?(notice: OutageNotice): void;
  /** Name of this worker in the job (shown by `status`). @default host:pid:random */
  workerName?: string;
  /** What `status` shows as this worker's swarm (a proxy URL, a hostfile). */
  origin?: string;
  /**
   * Stops the worker: nothing new is pulled, calls in flight are aborted and their prompts
   * handed back (immediately claimable by other workers), results already in are recorded.
   */
  signal?: AbortSignal;
  /** Called once the worker is registered, with the job's counts at that moment. */
  onStart?(state: { total: number; done: number; worker: string }): void;
  /** Called after each result this worker recorded. */
  onResult?(record: ResultRecord, progress: WorkProgress): void;
}

/** What a worker did so far. */
export interface WorkProgress {
  /** Results this worker recorded. */
  recorded: number;
  succeeded: number;
  failed: number;
  /** Results that another worker had already recorded (its lease passed on while we worked). */
  duplicates: number;
  /** Milliseconds since the worker started. */
  elapsedMs: number;
}

/** How a worker ended. */
export interface WorkSummary extends WorkProgress {
  worker: string;
  /** Whether every prompt of the job has a result. */
  jobFinished: boolean;
  /** Whether the worker stopped before the job was finished (the signal, or an outage of its swarm). */
  interrupted: boolean;
  /** Why it stopped early, when it did: the signal, or an outage longer than `outageTimeoutMs`. */
  stopReason?: 'signal' | 'outage';
  /** Prompts handed back to the queue when stopped. */
  handedBack: number;
  /** Prompts held back by outages of the swarm and sent again once it answered. */
  resentAfterOutage: number;
}

interface ResolvedWork {
  handler: JobPromptHandler;
  window: number;
  leaseMs: number;
  maxDeliveries: number;
}

function resolveWork(options: WorkOptions): ResolvedWork {
  const { pool, handler, concurrency, leaseSeconds = DEFAULT_LEASE_SECONDS } = options;
  const { maxDeliveries = DEFAULT_MAX_DELIVERIES } = options;
  if ((pool === undefined) === (handler === undefined)) {
    throw new InvalidOptionError('work: give exactly one of pool and handler');
  }
  if (!(typeof leaseSeconds === 'number' && Number.isFinite(leaseSeconds) && leaseSeconds >= 1)) {
    throw new InvalidOptionError(
      `work: leaseSeconds must be a number ≥ 1, got ${describeValue(leaseSeconds)}`,
    );
  }
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) {
    throw new InvalidOptionError(
      `work: maxDeliveries must be a positive integer, got ${describeValue(maxDeliveries)}`,
    );
  }
  const window = concurrency ?? pool?.concurrency ?? DEFAULT_WORKER_CONCURRENCY;
  if (!Number.isInteger(window) || window < 1) {
    throw new InvalidOptionError(
      `work: concurrency must be a positive integer, got ${describeValue(concurrency)}`,
    );
  }
  const dispatch = options.dispatch ?? 'round-robin';
  if (dispatch !== 'round-robin' && dispatch !== 'least-loaded') {
    throw new InvalidOptionError(
      `work: dispatch must be 'round-robin' or 'least-loaded', got ${describeValue(dispatch)}`,
    );
  }
  const leastLoaded = dispatch === 'least-loaded' ? pool?.postLeastLoaded?.bind(pool) : undefined;
  if (dispatch === 'least-loaded' && pool !== undefined && leastLoaded === undefined) {
    throw new InvalidOptionError(
      "work: dispatch 'least-loaded' needs a pool with postLeastLoaded (VLLMPool, AgentPool)",
    );
  }
  let next = 0;
  const resolvedHandler: JobPromptHandler =
    handler ??
    ((prompt, signal) => {
      const target = pool as SwarmPool;
      const callOptions = { ...options.callOptions, signal };
      return leastLoaded === undefined
        ? target.post(next++ % target.size, prompt.prompt, callOptions)
        : leastLoaded(prompt.prompt, callOptions);
    });
  const leaseMs = Math.round(leaseSeconds * 1000);
  return { handler: resolvedHandler, window, leaseMs, maxDeliveries };
}

/** A flat `[field, value, …]` list of a stream entry as an object. */
function fieldsOf(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let index = 0; index + 1 < flat.length; index += 2) {
    fields[String(flat[index])] = String(flat[index + 1]);
  }
  return fields;
}

/** The job was deleted while a worker ran. */
function jobDeletedError(): RedisJobError {
  return new RedisJobError('ERR_JOB_NOT_FOUND', 'the job was deleted while this worker ran');
}

/** One worker's run over a job; see the file comment. */
export class QueueWorker {
  readonly #connection: JobConnection;
  readonly #keys: JobKeys;
  readonly #options: WorkOptions;
  readonly #work: ResolvedWork;
  readonly #name: string;
  /** The probe this worker made for its pool (closed at the end). */
  #reachability: SwarmReachability | undefined;
  /** Every prompt leased by this worker and not recorded yet: waiting, in flight, or being written. */
  readonly #held = new Map<string, JobPrompt>();
  /** Leased prompts not started yet (new leases, and prompts to send again after an outage). */
  readonly #waiting: JobPrompt[] = [];
  readonly #writes = new Set<Promise<void>>();
  readonly #progress: WorkProgress = {
    recorded: 0,
    succeeded: 0,
    failed: 0,
    duplicates: 0,
    elapsedMs: 0,
  };
  readonly #startedAt = performance.now();
  readonly #rateSamples: Array<{ atMs: number; recorded: number }> = [];
  #claimCursor = '-';
  #lastClaimAtMs = Number.NEGATIVE_INFINITY;
  #lastForgetAtMs = Number.NEGATIVE_INFINITY;
  #controller: AbortController | undefined;
  #fetching: Promise<unknown> | undefined;
  #stop: AbortSignal | undefined;
  #guard: OutageGuard | undefined;
  #stopReason: WorkSummary['stopReason'];
  #resent = 0;
  #failure: unknown;

  constructor(connection: JobConnection, keys: JobKeys, options: WorkOptions) {
    this.#connection = connection;
    this.#keys = keys;
    this.#options = options;
    this.#work = resolveWork(options);
    this.#name =
      options.workerName ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  /** What tells an outage of the swarm from a failed prompt, if anything does. */
  #outageProbe(): OutageProbe | undefined {
    const { pool, outage } = this.#options;
    if (outage !== undefined || pool === undefined) return outage === false ? undefined : outage;
    const proxyUrl = (pool as { proxyUrl?: string }).proxyUrl;
    this.#reachability = new SwarmReachability({ endpoints: pool.endpoints, proxyUrl });
    return this.#reachability.outageProbe();
  }

  /** An outage guard of this run (stopped by `stop`), or undefined without a probe. */
  #createGuard(stop: AbortController): OutageGuard | undefined {
    const probe = this.#outageProbe();
    if (probe === undefined) return undefined;
    const notify = this.#options.onOutage;
    return new OutageGuard({
      // Called as methods: a probe of the caller's may be a class instance.
      probe: (signal) => probe.probe(signal),
      target: probe.target,
      noteResponse: (response) => probe.noteResponse?.(response),
      outageTimeoutMs: this.#options.outageTimeoutMs ?? DEFAULT_OUTAGE_TIMEOUT_MS,
      signal: stop.signal,
      onOutage: (event) => notify?.({ type: 'outage', ...event }),
      onRecovered: (event) => {
        this.#resent += event.heldBack;
        notify?.({ type: 'recovered', ...event });
      },
      onGiveUp: (event) => {
        notify?.({ type: 'outage-timeout', ...event });
        this.#stopReason ??= 'outage';
        stop.abort();
      },
    });
  }

  /** Counts `{ total, done }` of the job; throws when it was deleted. */
  async #counts(): Promise<{ total: number; done: number }> {
    const [total, done] = await this.#connection.retry(() =>
      this.#connection.client.hmGet(this.#keys.meta, ['total', 'done']),
    );
    if (total === null || total === undefined) throw jobDeletedError();
    return { total: Number(total), done: Number(done ?? 0) };
  }

  /** Run until the job is finished or the signal stops it. */
  async run(): Promise<WorkSummary> {
    const { controller, dispose } = linkAbortController(this.#options.signal);
    const stop = controller.signal;
    this.#stop = stop;
    this.#controller = controller;
    const stopWatchingRedis = this.#watchRedisOutage(controller);
    const counts = await this.#counts();
    await this.#heartbeat();
    this.#options.onStart?.({ ...counts, worker: this.#name });
    const renewEveryMs = Math.min(
      Math.max(100, Math.floor(this.#work.leaseMs / 3)),
      MAX_TIMER_DELAY_MS, // a lease of years is still renewed (a longer interval would fire at once)
    );
    const renewTimer = setInterval(() => this.#renew(), renewEveryMs);
    const heartbeatTimer = setInterval(
      () => void this.#heartbeat().catch(() => undefined),
      Math.min(renewEveryMs, MAX_HEARTBEAT_MS),
    );
    let jobFinished = counts.done >= counts.total;
    const guard = this.#createGuard(controller);
    this.#guard = guard;
    try {
      if (!jobFinished) {
        const stream = runWindowed<JobPrompt, AgentResponse | undefined>(
          this.#source(stop, () => {
            jobFinished = true;
          }),
          {
            window: this.#work.window,
            signal: stop,
            launch: (prompt, _index, signal) => {
              const send = () => this.#work.handler(prompt, signal);
              return guard === undefined ? send() : guard.send(send);
            },
          },
        );
        for await (const { item, result } of stream) {
          // Not a result: held back by an outage that outlasted the timeout, or cut by the
          // stop. The prompt is still held, and handed back below.
          if (result === undefined || (stop.aborted && result.failureKind === 'aborted')) continue;
          this.#record(item, result, controller);
        }
      }
      await this.#settle();
    } catch (error) {
      this.#failure ??= error;
    } finally {
      clearInterval(renewTimer);
      clearInterval(heartbeatTimer);
      stopWatchingRedis();
      dispose();
      await this.#reachability?.close();
    }
    await this.#settle().catch((error: unknown) => {
      this.#failure ??= error;
    });
    if (this.#options.signal?.aborted) this.#stopReason = 'signal';
    const interrupted = this.#stopReason !== undefined;
    const handedBack = await this.#handBack();
    await this.#unregister(handedBack === 0 && this.#held.size === 0);
    // Every prompt has a result: no consumer left in the group holds anything or will.
    if (jobFinished && !interrupted) await this.#forgetDeadConsumers(0);
    if (this.#failure !== undefined && !(this.#failure instanceof AbortedError && interrupted)) {
      throw this.#failure;
    }
    this.#progress.elapsedMs = performance.now() - this.#startedAt;
    return {
      ...this.#progress,
      worker: this.#name,
      jobFinished: jobFinished && !interrupted,
      interrupted,
      ...(this.#stopReason === undefined ? {} : { stopReason: this.#stopReason }),
      handedBack,
      resentAfterOutage: this.#resent,
    };
  }

  /** Stop the worker when Redis stays unreachable longer than allowed. */
  #watchRedisOutage(controller: AbortController): () => void {
    const timeoutMs = this.#options.outageTimeoutMs ?? DEFAULT_OUTAGE_TIMEOUT_MS;
    let waiting: AbortController | undefined;
    const unsubscribe = this.#connection.onOutage((event) => {
      waiting?.abort();
      waiting = undefined;
      if (event.phase === 'back') return;
      const current = new AbortController();
      waiting = current;
      // sleep(), not setTimeout: a timeout longer than a Node timer holds still waits it out.
      void sleep(timeoutMs, current.signal).then((passed) => {
        if (!passed) return;
        const error = new OutageTimeoutError(
          `Redis at ${this.#connection.label} has been unreachable for more than ${Math.round(timeoutMs / 1000)}s; stopping (the prompts held pass to other workers when their leases run out)`,
        );
        this.#failure ??= error;
        controller.abort(error);
      });
    });
    return () => {
      waiting?.abort();
      unsubscribe();
    };
  }

  /** Wait for the result writes and the last read of the queue. */
  async #settle(): Promise<void> {
    await this.#fetching?.catch(() => undefined);
    while (this.#writes.size > 0) await Promise.all([...this.#writes]);
  }

  /** The prompts to send, pulled from the queue as slots free up; ends when the job is finished. */
  async *#source(stop: AbortSignal, finished: () => void): AsyncGenerator<JobPrompt> {
    while (!stop.aborted) {
      // Nothing new is leased while the swarm is unreachable (the guard holds what is in flight).
      if (this.#guard !== undefined && !(await this.#guard.ready())) return;
      const waiting = this.#waiting.shift();
      if (waiting !== undefined) {
        yield waiting;
        continue;
      }
      const fetched = await this.#fetchOrFail(stop, false);
      if (fetched === undefined) return;
      if (fetched > 0 || stop.aborted) continue;
      const { total, done } = await this.#counts();
      if (done >= total && this.#waiting.length === 0) {
        finished();
        return;
      }
      // Nothing new to lease. Prompts of ours still in flight end in our own writes: wait
      // for one. Otherwise other workers hold the rest: block on the queue for a while
      // (new entries from retry-failed wake it; expired leases are claimed next round).
      if (this.#held.size > 0) await this.#nextLocalEvent(stop);
      else if ((await this.#fetchOrFail(stop, true)) === undefined) return;
    }
  }

  /** {@link #fetch}, with a failure kept for `run` to throw; undefined when it failed. */
  async #fetchOrFail(stop: AbortSignal, block: boolean): Promise<number | undefined> {
    const fetching = this.#fetch(stop, block);
    this.#fetching = fetching;
    try {
      return await fetching;
    } catch (error) {
      // The queue's consumer group is gone with the job.
      const deleted = error instanceof Error && error.message.startsWith('NOGROUP');
      if (!stop.aborted) this.#failure ??= deleted ? jobDeletedError() : error;
      return undefined;
    }
  }

  #wake: (() => void) | undefined;

  /** Resolves when a write of ours settles or a prompt is put back, at the latest after a blocking read's time. */
  #nextLocalEvent(stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.#blockMs());
      stop.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  #blockMs(): number {
    return Math.min(Math.max(50, Math.floor(this.#work.leaseMs / 3)), MAX_BLOCK_MS);
  }

  /** Lease prompts: expired leases of other workers first, then new entries. Returns how many. */
  async #fetch(stop: AbortSignal, block: boolean): Promise<number> {
    const { window, leaseMs } = this.#work;
    const want = Math.max(1, window - this.#held.size, Math.min(16, Math.ceil(window / 4)));
    const { client } = this.#connection;
    let leased = 0;
    const now = performance.now();
    if (now - this.#lastClaimAtMs >= Math.min(leaseMs / 2, MAX_BLOCK_MS)) {
      this.#lastClaimAtMs = now;
      const reply = await this.#connection.retry(
        () =>
          client.claimExpired(
            this.#keys,
            this.#name,
            leaseMs,
            this.#claimCursor,
            want,
            this.#work.maxDeliveries,
          ),
        stop,
      );
      const [cursor, claimed, exhausted] = reply as unknown as [
        string,
        Array<[string, string[]]>,
        Array<[string, string[], number, string]>,
      ];
      this.#claimCursor = String(cursor);
      for (const [id, fields] of claimed) {
        if (this.#hold(String(id), fieldsOf(fields))) leased++;
      }
      for (const [id, fields, deliveries, lastWorker] of exhausted) {
        this.#giveUp(String(id), fieldsOf(fields), Number(deliveries), String(lastWorker));
      }
    }
    if (leased > 0) return leased;
    const blocking = block ? await this.#connection.blocking() : client;
    const replies = await this.#connection.retry(
      () =>
        blocking.xReadGroup(
          WORKER_GROUP,
          this.#name,
          { key: this.#keys.queue, id: '>' },
          block ? { COUNT: want, BLOCK: this.#blockMs() } : { COUNT: want },
        ),
      stop,
    );
    const streams = (replies ?? []) as Array<{
      messages: Array<{ id: string; message: Record<string, string> }>;
    }>;
    for (const stream of streams) {
      for (const message of stream.messages) {
        if (this.#hold(String(message.id), message.message)) leased++;
      }
    }
    return leased;
  }

  #hold(entryId: string, fields: Record<string, string>): boolean {
    if (this.#held.has(entryId)) return false;
    const prompt = jobPromptOf(entryId, fields);
    if (prompt === undefined) return false;
    this.#held.set(entryId, prompt);
    this.#waiting.push(prompt);
    return true;
  }

  /**
   * A prompt delivered `maxDeliveries` times without a result (its workers died or stalled
   * on it, perhaps because of it): recorded as failed, never sent again.
   */
  #giveUp(entryId: string, fields: Record<string, string>, deliveries: number, last: string): void {
    const prompt = jobPromptOf(entryId, fields);
    if (prompt === undefined || this.#held.has(entryId) || this.#controller === undefined) return;
    this.#held.set(entryId, prompt);
    const response: AgentResponse = {
      success: false,
      text: '',
      error: `delivered ${deliveries} times without a result (each worker holding it died or stalled first; the last was ${last}): not sent again, it may be what stops them (limit ${this.#work.maxDeliveries} deliveries; job retry-failed sends it again)`,
      failureKind: 'delivery-limit',
      // No agent answered for it: -1, as for a call never sent.
      agentIndex: -1,
      globalIndex: -1,
    };
    this.#record(prompt, response, this.#controller);
  }

  #record(prompt: JobPrompt, response: AgentResponse, controller: AbortController): void {
    const record = toResultRecord({ id: prompt.id, lineNumber: prompt.line }, response);
    const write = (async () => {
      // Once stopped, a write cut by an outage is given up: the lease runs out and another
      // worker sends the prompt again (at least once), instead of this one waiting forever.
      const reply = await this.#connection.retry(
        () =>
          this.#connection.client.complete(
            this.#keys,
            prompt.entryId,
            prompt.key,
            record.success,
            JSON.stringify(record),
          ),
        this.#stop,
      );
      this.#held.delete(prompt.entryId);
      if (Number(reply) < 0) throw jobDeletedError();
      if (Number(reply) === 0) {
        this.#progress.duplicates++;
        return;
      }
      this.#progress.recorded++;
      if (record.success) this.#progress.succeeded++;
      else this.#progress.failed++;
      this.#progress.elapsedMs = performance.now() - this.#startedAt;
      this.#options.onResult?.(record, { ...this.#progress });
    })().catch((error: unknown) => {
      this.#failure ??= error;
      controller.abort(error);
    });
    this.#writes.add(write);
    void write.finally(() => {
      this.#writes.delete(write);
      this.#wake?.();
    });
  }

  #renewing = false;

  /** Reset the idle time of every held lease, so no other worker takes them over. */
  #renew(): void {
    if (this.#renewing || this.#held.size === 0 || this.#connection.isDown) return;
    this.#renewing = true;
    const ids = [...this.#held.keys()];
    this.#connection.client
      .xClaimJustId(this.#keys.queue, WORKER_GROUP, this.#name, 0, ids)
      .catch(() => undefined)
      .finally(() => {
        this.#renewing = false;
      });
  }

  /** This worker's line in `status`: counts and recent rate, stamped with the server's clock. */
  async #heartbeat(): Promise<void> {
    if (this.#connection.isDown) return;
    const atMs = performance.now();
    this.#rateSamples.push({ atMs, recorded: this.#progress.recorded });
    if (this.#rateSamples.length > RATE_SAMPLES) this.#rateSamples.shift();
    const oldest = this.#rateSamples[0] ?? { atMs, recorded: 0 };
    const seconds = (atMs - oldest.atMs) / 1000;
    const state = {
      host: hostname(),
      pid: process.pid,
      origin: this.#options.origin ?? '',
      lease_seconds: this.#work.leaseMs / 1000,
      recorded: this.#progress.recorded,
      succeeded: this.#progress.succeeded,
      failed: this.#progress.failed,
      in_flight: this.#held.size,
      rate_per_second: seconds > 0 ? (this.#progress.recorded - oldest.recorded) / seconds : 0,
    };
    await this.#connection.client.heartbeat(this.#keys, this.#name, JSON.stringify(state));
    await this.#forgetDeadConsumers();
  }

  /**
   * Make every prompt still held claimable by other workers at once, without counting the
   * delivery (this worker stops in order; it did not die on them). Returns how many.
   */
  async #handBack(): Promise<number> {
    const ids = [...this.#held.keys()];
    if (ids.length === 0) return 0;
    try {
      // IDLE = one whole lease: the next claim of any worker takes them.
      await this.#connection.client.handBack(this.#keys, this.#name, this.#work.leaseMs, ids);
    } catch {
      // Redis is unreachable: the leases simply run out, with the same effect later.
    }
    return ids.length;
  }

  /**
   * Forget consumers of dead workers that hold nothing and were silent for five leases, once
   * every five leases (best effort); with `idleMs`, now, silent that long.
   */
  async #forgetDeadConsumers(idleMs?: number): Promise<void> {
    const everyMs = this.#work.leaseMs * FORGET_CONSUMER_AFTER_LEASES;
    const now = performance.now();
    if (idleMs === undefined && now - this.#lastForgetAtMs < everyMs) return;
    this.#lastForgetAtMs = now;
    if (this.#connection.isDown) return;
    await this.#connection.client
      .forgetIdleConsumers(this.#keys, idleMs ?? everyMs, this.#name)
      .catch(() => undefined);
  }

  async #unregister(deleteConsumer: boolean): Promise<void> {
    if (this.#connection.isDown) return;
    try {
      await this.#connection.client.hDel(this.#keys.workers, this.#name);
      // A consumer with pending entries must stay: deleting it would drop its leases.
      if (deleteConsumer) {
        const pending = await this.#connection.client.xPendingRange(
          this.#keys.queue,
          WORKER_GROUP,
          '-',
          '+',
          1,
          { consumer: this.#name },
        );
        if (pending.length === 0) {
          await this.#connection.client.xGroupDelConsumer(
            this.#keys.queue,
            WORKER_GROUP,
            this.#name,
          );
        }
      }
    } catch {
      // Best effort: a stale entry only shows as a silent worker in `status`.
    }
  }
}
