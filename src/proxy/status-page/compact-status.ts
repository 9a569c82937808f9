/**
 * `GET /status?view=compact[&since=<version>][&agent=<index>]`: the form of `/status`
 * the status page polls, small enough for an SSH tunnel at 8,000 agents. It carries
 * the totals of `/status`, one short row per agent — only what the page's grid and
 * its list of unhealthy agents show — and, with `since`, only the rows that changed
 * after that version. The agent list itself (`hosts`, as `/hosts` has it) comes only
 * in a full answer: the first poll, after a hostfile reload, or for a version this
 * process did not issue (another `--workers` process, a restarted proxy).
 *
 * Change tracking is one snapshot per proxy, shared by every client: each compact
 * request compares every agent's row with the snapshot (numbers, and the error text
 * of unhealthy agents), stamps the rows that differ with the next version, and
 * answers with the rows stamped after the client's `since`. Rows always carry their
 * current values, so a client that applies them is up to date whatever it missed.
 * The scan reads a few fields per agent and builds no object for unchanged ones;
 * latency percentiles (the expensive part of the full body) are never computed here
 * except for the one agent asked for with `agent=`.
 */
import { randomBytes } from 'node:crypto';
import type { ForwardTarget } from '../agents/agent-targets.js';
import {
  type EndpointStatusJson,
  endpointStatus,
  type StatusSource,
  type StatusTotalsJson,
  statusTotals,
} from './proxy-status.js';

/** The names of a row's columns, in order (also sent in every answer). */
export const COMPACT_COLUMNS = ['index', 'healthy', 'in_flight', 'errors', 'last_error'] as const;

/**
 * One agent: index, healthy (1 or 0), requests in flight, errors, and for an
 * unhealthy agent only, its last error (text or null).
 */
export type CompactRow =
  | [index: number, healthy: 1, inFlight: number, errors: number]
  | [index: number, healthy: 0, inFlight: number, errors: number, lastError: string | null];

/** An agent as `/hosts` lists it. */
export interface CompactHostJson {
  host: string;
  port: number;
  tags: Readonly<Record<string, string>>;
}

/** The body of `/status?view=compact`. */
export interface CompactStatusJson extends StatusTotalsJson {
  view: 'compact';
  /** Pass it back as `since` to get only what changes after this answer. */
  version: string;
  /** Whether `rows` has every agent (and `hosts` is there): replace, do not merge. */
  full: boolean;
  /** The agent list, in hostfile order; only when `full`. */
  hosts?: CompactHostJson[];
  columns: typeof COMPACT_COLUMNS;
  rows: CompactRow[];
  /** With `agent=<index>`: that agent's entry as in the full `/status`; null past the end. */
  detail?: EndpointStatusJson | null;
}

/** What a compact request asks for. */
export interface CompactStatusQuery {
  /** A `version` of an earlier answer. */
  readonly since: string | undefined;
  /** The agent whose full entry goes into `detail`. */
  readonly agent: number | undefined;
}

/** The last rows seen, per agent, and the version at which each last changed. */
interface Snapshot {
  /** `targets.all` as it was: a reload swaps the array, so identity says "same list". */
  readonly list: readonly ForwardTarget[];
  /** The version the list appeared at: an older `since` gets a full answer. */
  readonly since: number;
  readonly healthy: Uint8Array;
  readonly inFlight: Float64Array;
  readonly errors: Float64Array;
  readonly lastError: (string | null)[];
  readonly changedAt: Float64Array;
  readonly hosts: CompactHostJson[];
  healthyCount: number;
}

function rowOf(snapshot: Snapshot, index: number): CompactRow {
  const inFlight = snapshot.inFlight[index] as number;
  const errors = snapshot.errors[index] as number;
  return snapshot.healthy[index] === 1
    ? [index, 1, inFlight, errors]
    : [index, 0, inFlight, errors, snapshot.lastError[index] ?? null];
}

/** The compact view of one proxy's `/status`, with its change tracking. */
export class CompactStatus {
  readonly #source: StatusSource;
  /** Names this process's versions: a version from elsewhere is never mistaken for ours. */
  readonly #epoch = randomBytes(4).toString('hex');
  #version = 0;
  #snapshot: Snapshot | undefined;

  constructor(source: StatusSource) {
    this.#source = source;
  }

  /** The compact body now, after recording what changed since the previous request. */
  answer(query: CompactStatusQuery): CompactStatusJson {
    const snapshot = this.#scan();
    const since = this.#parseVersion(query.since);
    const full = since === undefined || since < snapshot.since;
    const rows: CompactRow[] = [];
    const count = snapshot.list.length;
    for (let index = 0; index < count; index++) {
      if (full || (snapshot.changedAt[index] as number) > (since as number)) {
        rows.push(rowOf(snapshot, index));
      }
    }
    const body: CompactStatusJson = {
      view: 'compact',
      version: `${this.#epoch}-${this.#version}`,
      full,
      ...statusTotals(this.#source, count, snapshot.healthyCount),
      columns: COMPACT_COLUMNS,
      rows,
    };
    if (full) body.hosts = snapshot.hosts;
    if (query.agent !== undefined) {
      const target = snapshot.list[query.agent];
      body.detail = target === undefined ? null : endpointStatus(target);
    }
    return body;
  }

  /** A version of ours, as a number; undefined for anything else (then the answer is full). */
  #parseVersion(text: string | undefined): number | undefined {
    if (text === undefined || !text.startsWith(`${this.#epoch}-`)) return undefined;
    const digits = text.slice(this.#epoch.length + 1);
    if (!/^\d{1,15}$/.test(digits)) return undefined;
    const version = Number(digits);
    return version <= this.#version ? version : undefined;
  }

  /** Bring the snapshot up to date; rows that differ are stamped with a new version. */
  #scan(): Snapshot {
    const list = this.#source.targets.all;
    let snapshot = this.#snapshot;
    if (snapshot === undefined || snapshot.list !== list) {
      snapshot = this.#newSnapshot(list, ++this.#version);
      this.#snapshot = snapshot;
    }
    const next = this.#version + 1;
    let changed = false;
    let healthyCount = 0;
    for (let index = 0; index < list.length; index++) {
      const target = list[index] as ForwardTarget;
      const healthy = target.health.healthy ? 1 : 0;
      const { inFlight, errors } = target.stats;
      // Only unhealthy agents carry their error text; a probe failing again with the
      // same message changes nothing.
      const lastError = healthy === 1 ? null : target.stats.lastError;
      healthyCount += healthy;
      if (
        snapshot.healthy[index] !== healthy ||
        snapshot.inFlight[index] !== inFlight ||
        snapshot.errors[index] !== errors ||
        snapshot.lastError[index] !== lastError
      ) {
        snapshot.healthy[index] = healthy;
        snapshot.inFlight[index] = inFlight;
        snapshot.errors[index] = errors;
        snapshot.lastError[index] = lastError;
        snapshot.changedAt[index] = next;
        changed = true;
      }
    }
    snapshot.healthyCount = healthyCount;
    if (changed) this.#version = next;
    return snapshot;
  }

  #newSnapshot(list: readonly ForwardTarget[], version: number): Snapshot {
    const count = list.length;
    return {
      list,
      since: version,
      // Values no agent has, so the first scan stamps every row.
      healthy: new Uint8Array(count).fill(2),
      inFlight: new Float64Array(count).fill(-1),
      errors: new Float64Array(count).fill(-1),
      lastError: new Array<string | null>(count).fill(null),
      changedAt: new Float64Array(count).fill(version),
      hosts: list.map(({ endpoint: { host, port, tags } }) => ({ host, port, tags })),
      healthyCount: 0,
    };
  }
}
