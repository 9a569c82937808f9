/**
 * `GET /metrics`: Prometheus text format through prom-client, on a registry of the
 * proxy's own (never the global one, so several proxies and the host program's own
 * metrics do not mix).
 *
 * The hot path never touches prom-client: it bumps plain numeric fields (here and on
 * each agent's target), and the counters and gauges copy them when scraped
 * (`collect`). The two histograms fed per request are {@link DurationHistogram}s: an
 * array increment per observation (prom-client's `observe` costs ~0.3 µs: labels are
 * validated and hashed even when there are none), exported in prom-client's format.
 *
 * Cardinality: every series has a small fixed label set, except
 * `aurora_swarm_proxy_requests_total`, which has an `agent` label (the hostfile
 * index) unless `metricsAgentLabel` is off: at most 6 series per agent, and only
 * for the (agent, class) pairs that have been seen.
 */
import { Counter, Gauge, type Metric, Registry } from 'prom-client';
import type { ForwardTarget } from './agents/agent-targets.js';
import { METRICS_PREFIX } from './proxy-constants.js';

export { METRICS_PREFIX };

/** Status classes by `statusCounts` slot: 0 = no response (the client left first). */
const STATUS_CLASSES: readonly string[] = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** Histogram buckets of request durations and times to first byte, in seconds (LLM scale). */
const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

/**
 * A label-free histogram for the hot path, registered on a prom-client registry as a
 * custom metric (`get()` returns what prom-client's own histograms return: cumulative
 * `_bucket` series with `le`, then `_sum` and `_count`), so `/metrics` reads the same.
 */
export class DurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(name: string, help: string, bounds: readonly number[], registry: Registry) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
    registry.registerMetric(this as unknown as Metric);
  }

  /** Count one observation of `value` (seconds). */
  observe(value: number): void {
    const bounds = this.#bounds;
    let slot = 0;
    while (slot < bounds.length && value > (bounds[slot] as number)) slot++;
    (this.#counts[slot] as number)++;
    this.#sum += value;
    this.#count++;
  }

  /** The series as prom-client's registry reads them. */
  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] =
      [];
    let cumulative = 0;
    this.#bounds.forEach((bound, slot) => {
      cumulative += this.#counts[slot] as number;
      values.push({ labels: { le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    values.push({ labels: { le: '+Inf' }, value: this.#count, metricName: `${this.name}_bucket` });
    values.push({ labels: {}, value: this.#sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.#count, metricName: `${this.name}_count` });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  /** Forget every observation. */
  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }
}

/** The `statusCounts` slot of an HTTP status code. */
export function statusClassSlot(statusCode: number): number {
  const slot = Math.floor(statusCode / 100);
  return slot >= 1 && slot <= 5 ? slot : 0;
}

/** What the metrics read from the running proxy when scraped. */
export interface MetricsSource {
  readonly targets: () => readonly ForwardTarget[];
  readonly inFlight: () => number;
  readonly queued: () => number;
  readonly connectorLimit: number;
  readonly uptimeSeconds: () => number;
}

/**
 * The proxy's metrics. Public numeric fields are the hot path's counters: add to
 * them directly; they are exported on scrape.
 */
export class ProxyMetrics {
  /** Requests sent to an agent (a retried request counts once). */
  forwarded = 0;
  /** Response body bytes relayed from agents to clients. */
  responseBytes = 0;
  /** Clients that went away before their response ended. */
  clientDisconnects = 0;
  /** Requests that got no response headers in time (504). */
  headersTimeouts = 0;
  /** Responses cut because the agent fell silent mid-body. */
  bodyTimeouts = 0;
  /** Requests whose agent could not be reached. */
  connectFailures = 0;
  /** Requests whose agent answered with something that is not valid HTTP. */
  badResponses = 0;
  /** Responses cut because the agent failed mid-body. */
  midStreamFailures = 0;
  /** Pooled requests sent again to another agent after a connection failure. */
  retries = 0;
  /** Pooled requests answered 503 because no healthy agent matched. */
  noHealthyAgent = 0;
  /** Health transitions to healthy. */
  becameHealthy = 0;
  /** Health transitions to unhealthy. */
  becameUnhealthy = 0;
  /** Health probes that succeeded. */
  probeSuccesses = 0;
  /** Health probes that failed. */
  probeFailures = 0;
  /** Hostfile reloads applied. */
  reloadsApplied = 0;
  /** Hostfile reloads rejected (malformed, empty or unreadable file). */
  reloadsRejected = 0;

  /** Total time of complete responses (fed per request). */
  readonly requestDuration: DurationHistogram;
  /** Time from sending a request to its response headers (fed per request). */
  readonly timeToFirstByte: DurationHistogram;
  readonly #registry = new Registry();
  // Per hostfile index, so the `agent` series stay monotonic across reloads.
  readonly #statusCountsByIndex: number[][] = [];

  constructor(source: MetricsSource, agentLabel: boolean) {
    const registers = [this.#registry];
    const name = (suffix: string) => `${METRICS_PREFIX}${suffix}`;
    // prom-client binds `this` of collect() to the metric; the proxy's fields are read through `self`.
    const self = this;
    const counter = (suffix: string, help: string, read: () => number) =>
      new Counter({
        name: name(suffix),
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const labelledCounter = (
      suffix: string,
      help: string,
      label: string,
      read: () => Record<string, number>,
    ) =>
      new Counter({
        name: name(suffix),
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset();
          for (const [value, count] of Object.entries(read())) this.inc({ [label]: value }, count);
        },
      });
    const gauge = (suffix: string, help: string, read: () => number) =>
      new Gauge({
        name: name(suffix),
        help,
        registers,
        collect() {
          this.set(read());
        },
      });

    new Counter({
      name: name('requests_total'),
      help: agentLabel
        ? 'Forwarded requests by agent (hostfile index) and status class of the answer (none: the client left first)'
        : 'Forwarded requests by status class of the answer (none: the client left first)',
      labelNames: agentLabel ? ['agent', 'status_class'] : ['status_class'],
      registers,
      collect() {
        this.reset();
        if (agentLabel) {
          const count = source.targets().length;
          for (let index = 0; index < count; index++) {
            const counts = self.#statusCountsByIndex[index];
            if (counts === undefined) continue;
            const agent = String(index);
            counts.forEach((value, slot) => {
              if (value > 0) this.inc({ agent, status_class: STATUS_CLASSES[slot] }, value);
            });
          }
        } else {
          const totals = [0, 0, 0, 0, 0, 0];
          for (const counts of self.#statusCountsByIndex) {
            counts?.forEach((value, slot) => {
              totals[slot] = (totals[slot] as number) + value;
            });
          }
          totals.forEach((value, slot) => {
            if (value > 0) this.inc({ status_class: STATUS_CLASSES[slot] }, value);
          });
        }
      },
    });
    counter(
      'forwarded_requests_total',
      'Requests sent to an agent (a retried request counts once)',
      () => self.forwarded,
    );
    gauge(
      'in_flight_requests',
      'Requests holding a connector slot (sent to an agent, not finished)',
      source.inFlight,
    );
    gauge(
      'queued_requests',
      'Requests waiting for a connector slot (--connector-limit reached)',
      source.queued,
    );
    gauge(
      'connector_limit',
      'Most simultaneous requests to the agents (--connector-limit)',
      () => source.connectorLimit,
    );
    this.requestDuration = new DurationHistogram(
      name('request_duration_seconds'),
      'Time from sending a request to an agent to the end of its response, complete responses only',
      DURATION_BUCKETS_SECONDS,
      this.#registry,
    );
    this.timeToFirstByte = new DurationHistogram(
      name('time_to_first_byte_seconds'),
      "Time from sending a request to an agent to the agent's response headers",
      DURATION_BUCKETS_SECONDS,
      this.#registry,
    );
    counter(
      'response_bytes_total',
      'Response body bytes relayed from agents to clients',
      () => self.responseBytes,
    );
    counter(
      'client_disconnects_total',
      'Clients that went away before their response ended (the agent request is aborted)',
      () => self.clientDisconnects,
    );
    labelledCounter(
      'upstream_timeouts_total',
      'Upstream timeouts: headers = no response headers in time (504), body = silent gap mid-body (response cut)',
      'kind',
      () => ({ headers: self.headersTimeouts, body: self.bodyTimeouts }),
    );
    labelledCounter(
      'upstream_errors_total',
      'Upstream failures other than timeouts: connect (refused, reset, unreachable), bad_response (not valid HTTP), mid_stream (failed mid-body)',
      'kind',
      () => ({
        connect: self.connectFailures,
        bad_response: self.badResponses,
        mid_stream: self.midStreamFailures,
      }),
    );
    counter(
      'retries_total',
      'Pooled (/v1) requests sent again to another agent after a connection failure',
      () => self.retries,
    );
    counter(
      'no_healthy_agent_total',
      'Pooled (/v1) requests answered 503 because no healthy agent matched',
      () => self.noHealthyAgent,
    );
    labelledCounter(
      'health_transitions_total',
      'Agents changing health state, by new state',
      'to',
      () => ({ healthy: self.becameHealthy, unhealthy: self.becameUnhealthy }),
    );
    labelledCounter(
      'health_probes_total',
      'Health probes (GET /health of each agent) by result',
      'result',
      () => ({ success: self.probeSuccesses, failure: self.probeFailures }),
    );
    new Gauge({
      name: name('agents'),
      help: 'Agents in the hostfile by health state',
      labelNames: ['state'],
      registers,
      collect() {
        const targets = source.targets();
        const healthy = targets.reduce((sum, target) => sum + (target.health.healthy ? 1 : 0), 0);
        this.set({ state: 'healthy' }, healthy);
        this.set({ state: 'unhealthy' }, targets.length - healthy);
      },
    });
    labelledCounter(
      'hostfile_reloads_total',
      'Hostfile reloads by result (rejected: malformed, empty or unreadable; the old list is kept)',
      'result',
      () => ({ applied: self.reloadsApplied, rejected: self.reloadsRejected }),
    );
    gauge('uptime_seconds', 'Seconds since the proxy started', source.uptimeSeconds);
    gauge('resident_memory_bytes', 'Resident set size of the proxy process', () =>
      process.memoryUsage.rss(),
    );
  }

  /** The `statusCounts` array of hostfile index `index` (created on first use). */
  statusCountsFor(index: number): number[] {
    let counts = this.#statusCountsByIndex[index];
    if (counts === undefined) {
      counts = [0, 0, 0, 0, 0, 0];
      this.#statusCountsByIndex[index] = counts;
    }
    return counts;
  }

  /** The `Content-Type` of {@link render}'s text. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** Every metric in Prometheus text format. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }
}
