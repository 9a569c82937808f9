/**
 * Small reads of a running proxy's own routes (`/status`, `/hosts`) for the CLI, with
 * one-line errors for the usual mistakes: nothing listening, wrong token, not a proxy.
 */
import { type AgentEndpoint, createEndpoint } from '../hostfile/agent-endpoint.js';
import { CliError } from './cli-errors.js';

/** How long a read of the proxy's own routes may take, in milliseconds. */
const PROXY_READ_TIMEOUT_MS = 10_000;

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  if ((error as Error).name === 'TimeoutError') {
    return `no answer within ${PROXY_READ_TIMEOUT_MS / 1000}s`;
  }
  return (error as Error).message;
}

/**
 * GET `{proxyUrl}{path}` and parse its JSON.
 * @throws {CliError} unreachable, 401 (names --token and the variable), other statuses, not JSON.
 */
export async function readProxyJson(
  proxyUrl: string,
  path: string,
  token: string | undefined,
): Promise<unknown> {
  const url = `${proxyUrl}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: token ? { 'proxy-authorization': `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(PROXY_READ_TIMEOUT_MS),
    });
  } catch (error) {
    throw new CliError(
      `cannot reach the proxy at ${proxyUrl}: ${causeOf(error)} (is it running? is the SSH tunnel up?)`,
    );
  }
  const text = await response.text();
  if (response.status === 401) {
    throw new CliError(
      `the proxy at ${proxyUrl} answered 401: ${token ? 'wrong token' : 'it requires a token'} (pass --token or set AURORA_SWARM_PROXY_TOKEN)`,
    );
  }
  if (!response.ok) {
    throw new CliError(`GET ${url} answered ${response.status}: ${text.slice(0, 200)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`GET ${url} did not answer JSON: is ${proxyUrl} an aurora-swarm proxy?`);
  }
}

/** The proxy's agents in hostfile order, from `/hosts`. */
export async function readProxyHosts(
  proxyUrl: string,
  token: string | undefined,
): Promise<AgentEndpoint[]> {
  const body = (await readProxyJson(proxyUrl, '/hosts', token)) as {
    hosts?: Array<{ host?: unknown; port?: unknown; tags?: unknown }>;
  };
  if (!Array.isArray(body?.hosts)) {
    throw new CliError(`GET ${proxyUrl}/hosts has no "hosts" list: is it an aurora-swarm proxy?`);
  }
  return body.hosts.map((entry) =>
    createEndpoint(
      String(entry.host),
      Number(entry.port),
      entry.tags && typeof entry.tags === 'object' ? (entry.tags as Record<string, string>) : {},
    ),
  );
}
