/**
 * One agent's health as the proxy believes it: the result of active probes of its
 * `/health` and of connection failures seen by real requests (passive marking).
 *
 * A new agent counts as healthy until its first probe, which decides at once (so a
 * proxy started before its agents sees the dead ones within one probe timeout).
 * After that, `unhealthyThreshold` consecutive failures take it out and
 * `healthyThreshold` consecutive successful probes bring it back: an unhealthy
 * agent keeps being probed every round (half-open), and only a probe can
 * readmit it. A response to a real request resets the failure streak.
 *
 * Without probes (`--health-interval 0`) the connection failures of real requests still
 * take an agent out — a circuit breaker shared by every request — and after a cooldown it
 * is readmitted on trial ({@link readmitOnTrial}): its next connection failure takes it out
 * again at once, a response closes the breaker.
 */
export class AgentHealth {
  /** Whether the pooled routes (`/v1/*`) may pick this agent. */
  healthy = true;
  /** Whether a probe has answered (or failed) yet. */
  probed = false;
  /** Failures (probes or connection failures) since the last success. */
  consecutiveFailures = 0;
  /** Successful probes since the last failure. */
  consecutiveSuccesses = 0;

  /**
   * Record a successful probe.
   * @returns whether the agent just became healthy
   */
  recordSuccess(healthyThreshold: number): boolean {
    this.probed = true;
    this.consecutiveFailures = 0;
    this.consecutiveSuccesses++;
    if (this.healthy || this.consecutiveSuccesses < healthyThreshold) return false;
    this.healthy = true;
    return true;
  }

  /**
   * Let an agent taken out by connection failures (without probes) take requests again, on
   * trial: one more connection failure makes it unhealthy at once, while a response resets
   * the streak as for any agent.
   */
  readmitOnTrial(unhealthyThreshold: number): void {
    this.healthy = true;
    this.consecutiveSuccesses = 0;
    this.consecutiveFailures = Math.max(0, unhealthyThreshold - 1);
  }

  /**
   * Record a failed probe (`fromProbe`) or a connection failure of a real request.
   * @returns whether the agent just became unhealthy
   */
  recordFailure(unhealthyThreshold: number, fromProbe: boolean): boolean {
    const firstProbe = fromProbe && !this.probed;
    if (fromProbe) this.probed = true;
    this.consecutiveSuccesses = 0;
    this.consecutiveFailures++;
    if (!this.healthy) return false;
    if (!firstProbe && this.consecutiveFailures < unhealthyThreshold) return false;
    this.healthy = false;
    return true;
  }
}
