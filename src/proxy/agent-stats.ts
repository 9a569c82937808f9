/**
 * Counters the proxy keeps for each agent and reports in `/status`. Plain numeric
 * fields updated in place on the hot path; add new counters here (and to `toJSON`).
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

  /** The counters as `/status` reports them (snake_case, like the rest of the JSON API). */
  toJSON(): { in_flight: number; requests: number; errors: number; client_aborts: number } {
    return {
      in_flight: this.inFlight,
      requests: this.requests,
      errors: this.errors,
      client_aborts: this.clientAborts,
    };
  }
}
