/** One agent of the swarm: a vLLM (or compatible) server reachable over HTTP. */
export interface AgentEndpoint {
  /** Host name or IP address as written in the hostfile (IPv6 without brackets). */
  readonly host: string;
  /** TCP port, 1–65535. @default 8000 when the hostfile line has none */
  readonly port: number;
  /** `key=value` tags from the hostfile line, e.g. `{ role: 'worker' }`. */
  readonly tags: Readonly<Record<string, string>>;
  /** Base URL of the agent, `http://host:port` (IPv6 hosts in brackets). */
  readonly url: string;
}

/** Build an endpoint, deriving its `url`. */
export function createEndpoint(
  host: string,
  port: number,
  tags: Record<string, string> = {},
): AgentEndpoint {
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return Object.freeze({
    host,
    port,
    tags: Object.freeze({ ...tags }),
    url: `http://${urlHost}:${port}`,
  });
}
