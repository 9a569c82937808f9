/**
 * Active health checking: every `intervalMs`, one round of `GET /health` probes
 * over all agents, at most `concurrency` at a time (8,000 agents must not mean
 * 8,000 sockets at once), each bounded by `timeoutMs`. Rounds never overlap: the
 * next one is scheduled when the previous one ends. Connection failures of real
 * requests are reported here too (passive marking). See {@link AgentHealth} for
 * the thresholds. With probing off (`intervalMs` 0) the passive marking stays on as a
 * circuit breaker: an agent taken out is readmitted on trial after
 * {@link PASSIVE_COOLDOWN_MS}, since no probe will ever bring it back.
 */
import { Agent, type Dispatcher } from 'undici';
import type { ForwardTarget } from '../agents/agent-targets.js';
import { describeError, formatSeconds } from '../json-response.js';
import type { ProxyLogger } from '../proxy-logger.js';
import type { ProxyMetrics } from '../proxy-metrics.js';

/** Health checking settings (resolved). */
export interface HealthSettings {
  /** Time between the end of a probe round and the start of the next; 0 disables health checking. */
  readonly intervalMs: number;
  /** Most time a probe may take, connection included. */
  readonly timeoutMs: number;
  /** Consecutive failures that take a healthy agent out. */
  readonly unhealthyThreshold: number;
  /** Consecutive successful probes that bring an unhealthy agent back. */
  readonly healthyThreshold: number;
  /** Most probes at once. */
  readonly concurrency: number;
  /**
   * Without probes, how long an agent taken out by connection failures stays out.
   * @default PASSIVE_COOLDOWN_MS
   */
  readonly passiveCooldownMs?: number;
}

/** What the monitor tells the proxy. */
export interface HealthEvents {
  /** An agent changed state (already logged). */
  onTransition(target: ForwardTarget, healthy: boolean): void;
  /** A probe finished. */
  onProbe(success: boolean): void;
}

/**
 * The events of a proxy's monitor: probes and transitions counted in `metrics`
 * (exported by `/metrics`), and `afterTransition` called when an agent changed state.
 */
export function countedHealthEvents(
  metrics: Pick<
    ProxyMetrics,
    'becameHealthy' | 'becameUnhealthy' | 'probeSuccesses' | 'probeFailures'
  >,
  afterTransition: () => void,
): HealthEvents {
  return {
    onTransition: (_target, healthy) => {
      if (healthy) metrics.becameHealthy++;
      else metrics.becameUnhealthy++;
      afterTransition();
    },
    onProbe: (success) => {
      if (success) metrics.probeSuccesses++;
      else metrics.probeFailures++;
    },
  };
}

/** The path probed on each agent. */
const HEALTH_PROBE_PATH = '/health';

/**
 * Without probes, how long an agent taken out by connection failures stays out of `/v1`
 * before it is given requests again (on trial): 10 s, the default probe interval.
 */
export const PASSIVE_COOLDOWN_MS = 10_000;

class ProbeTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${formatSeconds(timeoutMs)}s`);
    this.name = 'ProbeTimeout';
  }
}

/** Runs probe rounds and applies their results (and passive reports) to the agents. */
export class HealthMonitor {
  readonly #settings: HealthSettings;
  readonly #targets: () => readonly ForwardTarget[];
  readonly #logger: ProxyLogger;
  readonly #events: HealthEvents;
  readonly #dispatcher: Dispatcher;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #pendingCheck: Promise<void> = Promise.resolve();
  #rounds = 0;
  #closed = false;
  /** Without probes: the timers that readmit agents taken out (failure path only). */
  readonly #readmissions = new Set<NodeJS.Timeout>();

  constructor(
    settings: HealthSettings,
    targets: () => readonly ForwardTarget[],
    logger: ProxyLogger,
    events: HealthEvents,
  ) {
    this.#settings = settings;
    this.#targets = targets;
    this.#logger = logger;
    this.#events = events;
    this.#dispatcher = new Agent({
      connections: 1,
      pipelining: 1,
      connectTimeout: settings.timeoutMs,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** Whether health checking is on (`intervalMs` > 0). */
  get enabled(): boolean {
    return this.#settings.intervalMs > 0;
  }

  /** Start the first round now, then one every `intervalMs` after each round ends. */
  start(): void {
    if (this.enabled) void this.#runRound();
  }

  /**
   * Probe every agent now and resolve once the round is over; a round already
   * running is awaited first, so the result reflects the agents as they are when
   * this is called. Does nothing when health checking is off.
   */
  checkNow(): Promise<void> {
    if (!this.enabled || this.#closed) return Promise.resolve();
    // Serialized: two callers get two rounds, one after the other, never overlapping.
    const previous = this.#pendingCheck;
    const check = (async () => {
      await previous;
      if (this.#round !== undefined) await this.#round;
      if (!this.#closed) await this.#runRound();
    })();
    this.#pendingCheck = check.catch(() => undefined);
    return check;
  }

  /**
   * A real request could not reach `target` (refused, reset, unreachable): after
   * `unhealthyThreshold` in a row it is out of `/v1`, until a probe readmits it — or,
   * without probes, for {@link PASSIVE_COOLDOWN_MS}.
   */
  reportConnectFailure(target: ForwardTarget, error: unknown): void {
    if (this.#closed) return;
    const failures = target.health.consecutiveFailures + 1;
    if (!target.health.recordFailure(this.#settings.unhealthyThreshold, false)) return;
    const why = `${failures} connection failure(s) in a row (${describeError(error)})`;
    if (this.enabled) {
      this.#transition(target, false, why);
      return;
    }
    const cooldownMs = this.#settings.passiveCooldownMs ?? PASSIVE_COOLDOWN_MS;
    this.#transition(
      target,
      false,
      `${why}; no health checks (--health-interval 0): given requests again in ${formatSeconds(cooldownMs)}s`,
    );
    const timer = setTimeout(() => {
      this.#readmissions.delete(timer);
      if (this.#closed || target.health.healthy) return;
      target.health.readmitOnTrial(this.#settings.unhealthyThreshold);
      this.#transition(
        target,
        true,
        'is given requests again, on trial (its next connection failure takes it out again)',
      );
    }, cooldownMs);
    timer.unref();
    this.#readmissions.add(timer);
  }

  /** Stop probing and close the probes' connections. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const timer of this.#readmissions) clearTimeout(timer);
    this.#readmissions.clear();
    await this.#dispatcher.destroy();
    await this.#round?.catch(() => undefined);
  }

  #runRound(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const round = this.#probeAll().finally(() => {
      if (this.#round === round) this.#round = undefined;
      if (this.#closed) return;
      this.#rounds++;
      if (this.#rounds === 1) this.#logSummary();
      if (this.#timer === undefined) {
        this.#timer = setTimeout(() => void this.#runRound(), this.#settings.intervalMs);
        this.#timer.unref();
      }
    });
    this.#round = round;
    return round;
  }

  async #probeAll(): Promise<void> {
    const targets = this.#targets();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length && !this.#closed) {
        const target = targets[next++] as ForwardTarget;
        await this.#probe(target);
      }
    };
    const workers: Promise<void>[] = [];
    for (let count = Math.min(this.#settings.concurrency, targets.length); count > 0; count--) {
      workers.push(worker());
    }
    await Promise.all(workers);
  }

  async #probe(target: ForwardTarget): Promise<void> {
    const { timeoutMs } = this.#settings;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ProbeTimeout(timeoutMs)), timeoutMs);
    let failure: string | undefined;
    try {
      const response = await this.#dispatcher.request({
        origin: target.origin,
        path: HEALTH_PROBE_PATH,
        method: 'GET',
        signal: controller.signal,
        // A new connection per probe (they are seconds apart): it tests what a real
        // request would need, and leaves no idle socket per agent behind.
        reset: true,
      });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode > 299) {
        failure = `GET ${HEALTH_PROBE_PATH} answered ${response.statusCode}`;
      }
    } catch (error) {
      failure = describeError(controller.signal.aborted ? controller.signal.reason : error);
    } finally {
      clearTimeout(timer);
    }
    if (this.#closed) return;
    this.#events.onProbe(failure === undefined);
    const health = target.health;
    if (failure === undefined) {
      if (health.recordSuccess(this.#settings.healthyThreshold)) {
        this.#transition(target, true, '');
      }
      return;
    }
    target.stats.recordError(`health probe: ${failure}`);
    const firstProbe = !health.probed;
    if (health.recordFailure(this.#settings.unhealthyThreshold, true)) {
      const why = firstProbe
        ? `its first health probe failed (${failure})`
        : `${health.consecutiveFailures} failure(s) in a row, the last a health probe (${failure})`;
      this.#transition(target, false, why);
    }
  }

  #transition(target: ForwardTarget, healthy: boolean, why: string): void {
    const name = `Agent ${target.index} (${target.authority})`;
    if (healthy) this.#logger.info(`${name} ${why === '' ? 'is healthy again' : why}`);
    else this.#logger.warning(`${name} is unhealthy: ${why}`);
    this.#events.onTransition(target, healthy);
  }

  #logSummary(): void {
    const targets = this.#targets();
    const healthy = targets.reduce((sum, target) => sum + (target.health.healthy ? 1 : 0), 0);
    this.#logger.info(`Health check: ${healthy} of ${targets.length} agent(s) healthy`);
  }
}
