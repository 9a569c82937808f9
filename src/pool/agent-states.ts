/**
 * What a pool family knows about each of its agents: calls in flight (for least-loaded
 * dispatch) and the circuit breaker (circuit-breaker.ts). One instance per root pool,
 * shared by every sub-pool, indexed by global (hostfile) index, so a dead agent found by
 * one sub-pool is skipped by all of them.
 *
 * Internal. Cheap on the hot path: a healthy agent has no breaker object at all (one is
 * made on its first connection failure), and the counts are one typed array.
 */
import { performance } from 'node:perf_hooks';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import {
  type Admission,
  type AgentVerdict,
  type BreakerState,
  CircuitBreaker,
} from './circuit-breaker.js';
import type { PoolMember } from './pool-member.js';
import type { ResolvedBreakerOptions } from './pool-options.js';

/** One agent as `pool.agentHealth()` reports it. */
export interface AgentHealthReport {
  /** Index in the pool asked (a sub-pool's own numbering). */
  agentIndex: number;
  /** Index in the hostfile. */
  globalIndex: number;
  /** The agent. */
  endpoint: AgentEndpoint;
  /**
   * `closed`: called normally; `open`: calls fail at once with `failureKind: 'unavailable'`;
   * `half-open`: the cooldown is over, the next call is a trial (a success closes it).
   */
  state: BreakerState;
  /** Calls of the whole pool family in flight to this agent right now. */
  inFlight: number;
  /** Connection failures since its last answer. */
  consecutiveFailures: number;
  /** Milliseconds until a trial call is let through (only when `open`). */
  retryInMs?: number;
  /** The last connection failure, in words (once there was one). */
  lastFailure?: string;
  /** How many times the breaker opened. */
  timesOpened: number;
}

/**
 * At most this fraction of a pool family's breakers is open at once (at least one): when
 * more agents fail together, the cause is rarely the agents (see circuit-breaker.ts). As
 * Envoy's outlier detection caps ejections (`max_ejection_percent`).
 */
export const MAX_OPEN_BREAKER_FRACTION = 0.5;

/** @internal */
export class AgentStates {
  readonly #settings: ResolvedBreakerOptions | undefined;
  readonly #inFlight: Int32Array;
  readonly #breakers: (CircuitBreaker | undefined)[];
  readonly #maxOpen: number;
  /** Requests sent so far: each attempt's number (see circuit-breaker.ts: why breakers need it). */
  #sends = 0;
  /** The number of the latest request any agent answered. */
  #answered = 0;
  /** Breakers open or half-open now. */
  #open = 0;

  constructor(agentCount: number, settings: ResolvedBreakerOptions | undefined) {
    this.#settings = settings;
    this.#inFlight = new Int32Array(agentCount);
    this.#breakers = new Array<CircuitBreaker | undefined>(agentCount);
    this.#maxOpen = Math.max(1, Math.floor(agentCount * MAX_OPEN_BREAKER_FRACTION));
  }

  /** Whether breakers are on. */
  get breakersEnabled(): boolean {
    return this.#settings !== undefined;
  }

  /**
   * An attempt on agent `globalIndex` starts.
   * @returns its number, for {@link record}
   */
  begin(globalIndex: number): number {
    this.#inFlight[globalIndex]!++;
    return ++this.#sends;
  }

  /** A call to agent `globalIndex` ended. */
  end(globalIndex: number): void {
    this.#inFlight[globalIndex]!--;
  }

  /** Calls in flight to agent `globalIndex`. */
  inFlight(globalIndex: number): number {
    return this.#inFlight[globalIndex] ?? 0;
  }

  /** Whether a call to agent `globalIndex` would be let through now (no side effect). */
  admits(globalIndex: number, nowMs?: number): boolean {
    // No clock read for an agent that never failed (no breaker): this runs per call.
    const breaker = this.#breakers[globalIndex];
    return breaker === undefined || breaker.admits(nowMs ?? performance.now());
  }

  /** Let a call to agent `globalIndex` through (maybe as the half-open trial), or refuse it. */
  admit(globalIndex: number): Admission | undefined {
    const breaker = this.#breakers[globalIndex];
    return breaker === undefined ? 'closed' : breaker.admit(performance.now());
  }

  /**
   * What attempt number `send` (from {@link begin}) on agent `globalIndex` said about it;
   * `description` is the failure in words when it was unreachable.
   * @returns whether the agent's breaker opened because of it
   */
  record(
    globalIndex: number,
    send: number,
    verdict: AgentVerdict,
    admission: Admission | undefined,
    description: string,
  ): boolean {
    if (verdict === 'answered') {
      if (send > this.#answered) this.#answered = send;
      if (this.#breakers[globalIndex]?.recordAnswer(admission)) this.#open--;
      return false;
    }
    if (verdict === 'unknown' || this.#settings === undefined) {
      this.#breakers[globalIndex]?.recordUnknown(admission);
      return false;
    }
    let breaker = this.#breakers[globalIndex];
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.#settings);
      this.#breakers[globalIndex] = breaker;
    }
    const change = breaker.recordUnreachable(
      admission,
      description,
      performance.now(),
      this.#sends,
      this.#answered,
      this.#open < this.#maxOpen,
    );
    if (change === 'opened') this.#open++;
    return change !== 'unchanged';
  }

  /**
   * The pool index of the member with the fewest calls in flight whose breaker lets a call
   * through, skipping the agents (global indices) in `avoid`; -1 when there is none. Ties are spread:
   * the scan starts at a random member and keeps the first minimum.
   */
  pickLeastLoaded(
    members: readonly PoolMember[],
    avoid: readonly number[] | undefined,
    random: () => number = Math.random,
  ): number {
    const count = members.length;
    if (count === 0) return -1;
    const nowMs = performance.now();
    const start = Math.floor(random() * count);
    let best = -1;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let step = 0; step < count; step++) {
      let index = start + step;
      if (index >= count) index -= count;
      const globalIndex = (members[index] as PoolMember).globalIndex;
      const load = this.#inFlight[globalIndex] as number;
      if (load >= bestLoad) continue;
      if (avoid?.includes(globalIndex)) continue;
      const breaker = this.#breakers[globalIndex];
      if (breaker !== undefined && !breaker.admits(nowMs)) continue;
      best = index;
      bestLoad = load;
      if (load === 0) break;
    }
    return best;
  }

  /** Why a call to `member` is refused, and when it is tried again. */
  unavailableMessage(member: PoolMember): string {
    const breaker = this.#breakers[member.globalIndex];
    if (breaker === undefined) return `${member.label} is unavailable`;
    const nowMs = performance.now();
    const when =
      breaker.state(nowMs) === 'open'
        ? `it is tried again in ${formatSeconds(breaker.retryInMs(nowMs))}`
        : 'a trial call is checking whether it is back';
    return `${member.label} is unavailable (circuit breaker open after ${breaker.describe()}); ${when}`;
  }

  /** Why no member of a pool can be called. */
  noneAvailableMessage(members: readonly PoolMember[]): string {
    const nowMs = performance.now();
    let soonestMs = Number.POSITIVE_INFINITY;
    for (const member of members) {
      const breaker = this.#breakers[member.globalIndex];
      if (breaker !== undefined) soonestMs = Math.min(soonestMs, breaker.retryInMs(nowMs));
    }
    const when = Number.isFinite(soonestMs)
      ? soonestMs > 0
        ? `the first is tried again in ${formatSeconds(soonestMs)}`
        : 'trial calls are checking whether they are back'
      : '';
    return `no agent of the pool is available: the circuit breakers of all ${members.length} agent(s) are open after repeated connection failures${when === '' ? '' : `; ${when}`}`;
  }

  /** Note appended to the failure that opened a breaker. */
  openedNote(): string {
    const cooldownMs = this.#settings?.cooldownMs ?? 0;
    return `; its circuit breaker is now open: calls to it fail at once for ${formatSeconds(cooldownMs)}`;
  }

  /** The state of each of `members`, in pool order. */
  report(members: readonly PoolMember[]): AgentHealthReport[] {
    const nowMs = performance.now();
    return members.map((member, agentIndex) => {
      const breaker = this.#breakers[member.globalIndex];
      const state = breaker?.state(nowMs) ?? 'closed';
      const report: AgentHealthReport = {
        agentIndex,
        globalIndex: member.globalIndex,
        endpoint: member.endpoint,
        state,
        inFlight: this.inFlight(member.globalIndex),
        consecutiveFailures: breaker?.consecutiveFailures ?? 0,
        timesOpened: breaker?.timesOpened ?? 0,
      };
      if (state === 'open') report.retryInMs = Math.round(breaker?.retryInMs(nowMs) ?? 0);
      if (breaker !== undefined && breaker.lastFailure !== '') {
        report.lastFailure = breaker.lastFailure;
      }
      return report;
    });
  }
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
