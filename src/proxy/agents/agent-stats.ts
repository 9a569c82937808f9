import { type Percentiles, SampleRing } from './sample-ring.js';

/** An agent's counters as `/status` reports them (snake_case, like the rest of the JSON API). */
export interface AgentStatsJson {
  in_flight: number;
  requests: number;
  errors: number;
  client_aborts: number;
  last_error: string | null;
  /** ISO 8601 time of `last_error`. */
  last_error_at: string | null;
  /** Total response time of the recent responses, in milliseconds. */
  latency_ms: Percentiles | null;
  /** Time from sending the request to the response headers, in milliseconds. */
  ttfb_ms: Percentiles | null;
}

/**
 * Counters the proxy keeps for each agent and reports in `/status`. Plain numeric
 * fields updated in place on the hot path; add new counters here (and to `toJSON`).
 * They follow the agent (its `host:port`) across hostfile reloads.
 */
export class AgentStats {
  /** Requests forwarded to the agent (counted when sent, after any queueing). */
  requests = 0;
  /** Requests sent to the agent whose response has not ended yet. */
  inFlight = 0;
  /** Requests that ended in a proxy error: 502, 504, or a response cut mid-body. */
  errors = 0;
  /** Requests abandoned because the client went away first. */
  clientAborts = 0;
  /** The last failure seen, by a request or a health probe. */
  lastError: string | null = null;
  /** When `lastError` happened, in milliseconds since the epoch (0: never). */
  lastErrorAtMs = 0;
  /** Response times of the recent complete responses, in milliseconds. */
  readonly latencyMs = new SampleRing();
  /** Times to the response headers of the recent responses, in milliseconds. */
  readonly ttfbMs = new SampleRing();

  /** Remember `message` as the agent's last error (off the hot path: failures only). */
  recordError(message: string): void {
    this.lastError = message;
    this.lastErrorAtMs = Date.now();
  }

  /** The counters as `/status` reports them. */
  toJSON(): AgentStatsJson {
    return {
      in_flight: this.inFlight,
      requests: this.requests,
      errors: this.errors,
      client_aborts: this.clientAborts,
      last_error: this.lastError,
      last_error_at: this.lastErrorAtMs === 0 ? null : new Date(this.lastErrorAtMs).toISOString(),
      latency_ms: this.latencyMs.percentiles(),
      ttfb_ms: this.ttfbMs.percentiles(),
    };
  }
}
