/**
 * "Can the swarm be reached at all?" for {@link OutageGuard}: through a proxy, whether the
 * proxy answers `GET /health`; directly, whether any of the agents that answered most
 * recently (or, before any did, a sample of them) still answers. Any HTTP answer counts:
 * the question is whether the network path works, not whether an agent is healthy.
 */
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { CallSignal } from '../internal/call-signal.js';
import { Agent } from '../internal/undici-agent.js';
import { isUnixProxyUrl, unixSocketPathOf } from '../internal/unix-proxy-url.js';
import type { AgentResponse } from '../pool/types.js';
import type { OutageProbe } from './outage-guard.js';

/** Milliseconds one reachability probe may take, connect included. */
export const DEFAULT_REACHABILITY_PROBE_TIMEOUT_MS = 5_000;
/** Agents probed at once in direct mode. */
const DIRECT_PROBE_AGENTS = 16;

/** Options of {@link SwarmReachability}. */
export interface SwarmReachabilityOptions {
  /** The agents, in hostfile order (global index = position). */
  endpoints: readonly AgentEndpoint[];
  /** The proxy everything goes through, if any. */
  proxyUrl?: string | undefined;
  /** @default 5_000 */
  probeTimeoutMs?: number;
}

/** The probe and target of an {@link OutageGuard} for one swarm. */
export class SwarmReachability {
  readonly #endpoints: readonly AgentEndpoint[];
  readonly #proxyUrl: string | undefined;
  readonly #probeTimeoutMs: number;
  readonly #dispatcher: Agent;
  /** Global indices of the agents that answered last, most recent last, distinct. */
  readonly #recent: number[] = [];

  constructor(options: SwarmReachabilityOptions) {
    this.#endpoints = options.endpoints;
    this.#proxyUrl = options.proxyUrl?.replace(/\/+$/, '');
    this.#probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_REACHABILITY_PROBE_TIMEOUT_MS;
    // A `unix:` proxy is probed over its socket, as the pools reach it.
    const socketPath =
      this.#proxyUrl !== undefined && isUnixProxyUrl(this.#proxyUrl)
        ? unixSocketPathOf(this.#proxyUrl)
        : undefined;
    this.#dispatcher = new Agent({
      connections: 1,
      pipelining: 0,
      ...(socketPath === undefined ? {} : { socketPath }),
    });
  }

  /** How messages name what is probed. */
  get target(): string {
    return this.#proxyUrl === undefined ? 'the agents' : `the proxy at ${this.#proxyUrl}`;
  }

  /** The probe, target and response notes an {@link OutageGuard} takes (spread into its options). */
  outageProbe(): OutageProbe {
    return {
      probe: this.probe,
      target: this.target,
      noteResponse: (response) => this.noteResponse(response),
    };
  }

  /** Remember which agent answered: in direct mode those are probed first. */
  noteResponse(response: AgentResponse): void {
    if (!response.success || this.#proxyUrl !== undefined || response.globalIndex < 0) return;
    const index = response.globalIndex;
    const known = this.#recent.lastIndexOf(index);
    if (known === this.#recent.length - 1) return;
    if (known >= 0) this.#recent.splice(known, 1);
    this.#recent.push(index);
    if (this.#recent.length > DIRECT_PROBE_AGENTS) this.#recent.shift();
  }

  /** Whether the proxy (or any probed agent) answers; never rejects. */
  probe = async (signal?: AbortSignal): Promise<boolean> => {
    if (this.#proxyUrl !== undefined) {
      const base = isUnixProxyUrl(this.#proxyUrl) ? 'http://localhost' : this.#proxyUrl;
      return this.#answers(`${base}/health`, signal);
    }
    const urls = this.#directCandidates().map((endpoint) => `${endpoint.url}/health`);
    const answers = await Promise.all(urls.map((url) => this.#answers(url, signal)));
    return answers.some(Boolean);
  };

  /** Close the probe's connections. */
  close(): Promise<void> {
    return this.#dispatcher.close();
  }

  #directCandidates(): AgentEndpoint[] {
    const count = this.#endpoints.length;
    if (count <= DIRECT_PROBE_AGENTS) return [...this.#endpoints];
    const chosen = new Set(this.#recent);
    // Then agents spread evenly over the hostfile, so a dead rack cannot hide the others.
    for (let step = 0; chosen.size < DIRECT_PROBE_AGENTS; step++) {
      chosen.add(Math.floor((step * count) / DIRECT_PROBE_AGENTS) % count);
    }
    return [...chosen].map((index) => this.#endpoints[index] as AgentEndpoint);
  }

  async #answers(url: string, signal: AbortSignal | undefined): Promise<boolean> {
    const callSignal = new CallSignal(this.#probeTimeoutMs, signal);
    const { origin, pathname, search } = new URL(url);
    try {
      const response = await this.#dispatcher.request({
        origin,
        path: pathname + search,
        method: 'GET',
        signal: callSignal.signal,
      });
      await response.body.dump();
      return true;
    } catch {
      return false;
    } finally {
      callSignal.dispose();
    }
  }
}
