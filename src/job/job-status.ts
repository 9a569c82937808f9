/**
 * `job status`: a job's counts and its live workers, read from Redis in one round trip.
 * Field names are snake_case because they are also the `--json` output.
 */
import { type JobKeys, WORKER_GROUP } from './job-keys.js';
import type { JobConnection } from './redis-connection.js';

/** One worker as `status` shows it. */
export interface JobWorkerStatus {
  /** The worker's name in the job (host:pid:random unless chosen). */
  name: string;
  host: string;
  pid: number;
  /** Its swarm: a proxy URL or a hostfile. */
  origin: string;
  /** Seconds since its last heartbeat (by the Redis server's clock). */
  last_seen_seconds: number;
  /** Results it recorded. */
  recorded: number;
  succeeded: number;
  failed: number;
  /** Prompts it holds (leased, in flight or being written). */
  in_flight: number;
  /** Results per second over its last heartbeats. */
  rate_per_second: number;
}

/** A job's state. */
export interface JobStatus {
  job: string;
  /** Prompts submitted. */
  total: number;
  /** Prompts with a result (succeeded + failed). */
  done: number;
  succeeded: number;
  failed: number;
  /** Prompts leased by a worker (live, or dead and waiting for its lease to run out). */
  in_flight: number;
  /** Prompts no worker holds yet. */
  queued: number;
  /** Workers with a heartbeat within their lease. */
  workers: JobWorkerStatus[];
  /** Workers registered but silent for longer than their lease (killed, lost). */
  silent_workers: number;
  /** Successful results removed from Redis by `collect --trim` (they are in its file). */
  trimmed: number;
  /** When the job was first submitted (ISO 8601). */
  created_at: string;
}

function parseWorker(
  name: string,
  value: string,
  nowMs: number,
): { worker: JobWorkerStatus; alive: boolean } | undefined {
  const space = value.indexOf(' ');
  const seenMs = Number(value.slice(0, space));
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(value.slice(space + 1)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const number = (key: string) => (typeof state[key] === 'number' ? (state[key] as number) : 0);
  const lastSeenSeconds = Math.max(0, (nowMs - seenMs) / 1000);
  const worker: JobWorkerStatus = {
    name,
    host: typeof state.host === 'string' ? state.host : '',
    pid: number('pid'),
    origin: typeof state.origin === 'string' ? state.origin : '',
    last_seen_seconds: Math.round(lastSeenSeconds * 10) / 10,
    recorded: number('recorded'),
    succeeded: number('succeeded'),
    failed: number('failed'),
    in_flight: number('in_flight'),
    rate_per_second: Math.round(number('rate_per_second') * 10) / 10,
  };
  return { worker, alive: lastSeenSeconds <= Math.max(number('lease_seconds'), 5) };
}

/** Read a job's status. The caller has checked that the job exists. */
export async function readJobStatus(
  connection: JobConnection,
  keys: JobKeys,
  jobName: string,
): Promise<JobStatus> {
  const [meta, pending, time, workers] = await connection.retry(() =>
    connection.client
      .multi()
      .hGetAll(keys.meta)
      .xPending(keys.queue, WORKER_GROUP)
      .time()
      .hGetAll(keys.workers)
      .exec(),
  );
  const fields = (meta ?? {}) as Record<string, string>;
  const count = (key: string) => Number(fields[key] ?? 0);
  const [seconds, microseconds] = (time as unknown as [string, string]) ?? ['0', '0'];
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
  const alive: JobWorkerStatus[] = [];
  let silent = 0;
  for (const [name, value] of Object.entries((workers ?? {}) as Record<string, string>)) {
    const parsed = parseWorker(name, value, nowMs);
    if (parsed?.alive) alive.push(parsed.worker);
    else silent++;
  }
  alive.sort((a, b) => a.name.localeCompare(b.name));
  const total = count('total');
  const done = count('done');
  const inFlight = Number((pending as { pending?: number } | null)?.pending ?? 0);
  return {
    job: jobName,
    total,
    done,
    succeeded: count('succeeded'),
    failed: count('failed'),
    in_flight: inFlight,
    queued: Math.max(0, total - done - inFlight),
    workers: alive,
    silent_workers: silent,
    trimmed: count('trimmed'),
    created_at: fields.created_at ?? '',
  };
}
