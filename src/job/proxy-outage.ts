/**
 * The seam where a worker asks "is this failure an outage of the whole swarm?" and "wait
 * until it is over". A prompt that failed because the proxy itself is gone (its process
 * restarted, the SSH tunnel dropped) did nothing wrong: the worker keeps its lease, does not
 * record a result, pauses sending and sends it again once the proxy answers.
 *
 * `ProxyOutageGuard` is deliberately small: a connection failure is checked against the
 * proxy's own `/health`; if that does not answer either, it is an outage, probed with
 * backoff until it answers. `run` gets the same rule (issue on run safety); when its shared
 * mechanism lands, it replaces this class behind the same `OutageGuard` interface.
 */
import { AbortedError, OutageTimeoutError } from '../errors.js';
import type { AgentResponse } from '../pool/types.js';
import { isOutageSuspect } from '../run/outage-guard.js';

/** How a worker learns about, and waits out, an outage of its whole swarm. */
export interface OutageGuard {
  /** Whether `response` failed because the swarm as a whole is unreachable (not this prompt's fault). */
  isOutage(response: AgentResponse): Promise<boolean>;
  /**
   * Resolves at once when there is no outage, else when it is over.
   * @throws {AbortedError} when `signal` aborts first.
   * @throws {OutageTimeoutError} when the outage lasted longer than the guard allows.
   */
  ready(signal?: AbortSignal): Promise<void>;
}

/** A guard that never sees an outage: every failure is the prompt's (direct mode, for now). */
export const NO_OUTAGE_GUARD: OutageGuard = {
  isOutage: () => Promise.resolve(false),
  ready: () => Promise.resolve(),
};

/** What a {@link ProxyOutageGuard} reports: the outage began (once), or it is over. */
export type ProxyOutageEvent =
  | { phase: 'lost'; proxyUrl: string; retryDelaysMs: readonly number[] }
  | { phase: 'back'; proxyUrl: string; downMs: number };

/** Options of {@link ProxyOutageGuard}. */
export interface ProxyOutageGuardOptions {
  /** The proxy's base URL. */
  proxyUrl: string;
  /** The proxy's token, when it has one. */
  token?: string;
  /** Longest outage waited out before giving up, in milliseconds. @default 600_000 */
  outageTimeoutMs?: number;
  /** Pauses between probes of `/health`, in milliseconds; the last one repeats. @default [500, 1000, 2000, 5000] */
  retryDelaysMs?: readonly number[];
  /** Time one probe may take, in milliseconds. @default 3000 */
  probeTimeoutMs?: number;
  /** Told when the outage begins and when it is over. */
  onOutage?(event: ProxyOutageEvent): void;
}

/** Default longest outage a worker waits out, in milliseconds (as `run --outage-timeout`). */
export const DEFAULT_OUTAGE_TIMEOUT_MS = 600_000;
const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 5000];
const DEFAULT_PROBE_TIMEOUT_MS = 3000;

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Treats "the proxy itself does not answer" as an outage to wait out. */
export class ProxyOutageGuard implements OutageGuard {
  readonly #options: Required<Omit<ProxyOutageGuardOptions, 'token' | 'onOutage'>> &
    Pick<ProxyOutageGuardOptions, 'token' | 'onOutage'>;
  /** The running recovery, while the proxy is down. */
  #recovery: Promise<void> | undefined;
  readonly #stop = new AbortController();

  constructor(options: ProxyOutageGuardOptions) {
    this.#options = {
      outageTimeoutMs: DEFAULT_OUTAGE_TIMEOUT_MS,
      retryDelaysMs: DEFAULT_RETRY_DELAYS_MS,
      probeTimeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
      ...options,
      proxyUrl: options.proxyUrl.replace(/\/+$/, ''),
    };
  }

  /** Whether the proxy answers `/health` at all (any HTTP status counts as an answer). */
  async #answers(): Promise<boolean> {
    try {
      const response = await fetch(`${this.#options.proxyUrl}/health`, {
        headers: this.#options.token
          ? { 'proxy-authorization': `Bearer ${this.#options.token}` }
          : {},
        signal: AbortSignal.any([
          AbortSignal.timeout(this.#options.probeTimeoutMs),
          this.#stop.signal,
        ]),
      });
      await response.arrayBuffer();
      return true;
    } catch {
      return false;
    }
  }

  async isOutage(response: AgentResponse): Promise<boolean> {
    if (!isOutageSuspect(response)) return false;
    if (this.#recovery) return true;
    if (await this.#answers()) return false;
    if (!this.#recovery) {
      this.#recovery = this.#recover();
      // Whoever waits in ready() sees a failure; nobody waiting must not crash the process.
      this.#recovery.catch(() => undefined);
    }
    return true;
  }

  async #recover(): Promise<void> {
    const { proxyUrl, retryDelaysMs, outageTimeoutMs, onOutage } = this.#options;
    const startedAt = performance.now();
    onOutage?.({ phase: 'lost', proxyUrl, retryDelaysMs });
    for (let attempt = 0; ; attempt++) {
      const delay = retryDelaysMs[Math.min(attempt, retryDelaysMs.length - 1)] ?? 1000;
      await abortable(delay, this.#stop.signal);
      if (await this.#answers()) break;
      if (performance.now() - startedAt > outageTimeoutMs) {
        throw new OutageTimeoutError(
          `the proxy at ${proxyUrl} has been unreachable for ${Math.round((performance.now() - startedAt) / 1000)}s (more than the outage timeout)`,
        );
      }
    }
    this.#recovery = undefined;
    onOutage?.({ phase: 'back', proxyUrl, downMs: performance.now() - startedAt });
  }

  async ready(signal?: AbortSignal): Promise<void> {
    const recovery = this.#recovery;
    if (!recovery) return;
    if (signal?.aborted) throw new AbortedError();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new AbortedError());
      signal?.addEventListener('abort', onAbort, { once: true });
      recovery.then(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** Stop probing (the worker is done). Idempotent. */
  close(): void {
    this.#stop.abort();
    this.#recovery?.catch(() => undefined);
  }
}
