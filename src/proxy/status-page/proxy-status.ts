/**
 * The body of `GET /status`: the swarm at a glance, for people (`curl`), the
 * `aurora-swarm status` table and the status page. snake_case like the rest of the
 * JSON API; fields are only ever added.
 */
import type { AgentStatsJson } from '../agents/agent-stats.js';
import type { AgentTargets } from '../agents/agent-targets.js';
import type { ConnectionLimiter } from '../agents/connection-limiter.js';
import type { ProxyMetrics } from '../proxy-metrics.js';

/** One agent in `/status`. */
export interface EndpointStatusJson extends AgentStatsJson {
  index: number;
  host: string;
  port: number;
  tags: Readonly<Record<string, string>>;
  /** Whether the pooled routes may pick it (always true when health checking is off). */
  healthy: boolean;
}

/** The whole `/status` body. */
export interface ProxyStatusJson {
  agents: number;
  uptime_seconds: number;
  endpoints: EndpointStatusJson[];
  healthy_agents: number;
  /** Requests holding a connector slot. */
  in_flight: number;
  /** Requests waiting for a connector slot. */
  queued: number;
  connector_limit: number;
  timeout_seconds: number;
  /** Requests forwarded since the start (monotonic; a retried request counts once). */
  requests_total: number;
  /** Whether agents are probed (`--health-interval` > 0). */
  health_checks: boolean;
}

/** What `/status` reads. */
export interface StatusSource {
  readonly targets: AgentTargets;
  readonly limiter: ConnectionLimiter;
  readonly metrics: ProxyMetrics;
  readonly uptimeSeconds: () => number;
  readonly timeoutMs: number;
  readonly healthChecks: boolean;
  /** Set in each `--workers` process: the body then says which worker answered. */
  readonly clusterWorker?: { readonly index: number; readonly count: number } | undefined;
}

/** With `--workers`, which worker answered: each answers for itself (its own counters and limit). */
export interface WorkerStatusJson {
  index: number;
  count: number;
  pid: number;
  counters: 'this worker only';
}

/** Build the `/status` body now. */
export function buildStatus(source: StatusSource): ProxyStatusJson & { worker?: WorkerStatusJson } {
  const targets = source.targets.all;
  let healthy = 0;
  const endpoints = targets.map((target): EndpointStatusJson => {
    if (target.health.healthy) healthy++;
    const { host, port, tags } = target.endpoint;
    return {
      index: target.index,
      host,
      port,
      tags,
      healthy: target.health.healthy,
      ...target.stats.toJSON(),
    };
  });
  // The usage guide's order first: agents, uptime_seconds, endpoints.
  const status: ProxyStatusJson = {
    agents: targets.length,
    uptime_seconds: source.uptimeSeconds(),
    endpoints,
    healthy_agents: healthy,
    in_flight: source.limiter.active,
    queued: source.limiter.queued,
    connector_limit: source.limiter.limit,
    timeout_seconds: source.timeoutMs / 1000,
    requests_total: source.metrics.forwarded,
    health_checks: source.healthChecks,
  };
  const worker = source.clusterWorker;
  if (worker === undefined) return status;
  return {
    ...status,
    worker: {
      index: worker.index,
      count: worker.count,
      pid: process.pid,
      counters: 'this worker only',
    },
  };
}
