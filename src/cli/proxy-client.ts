/**
 * Small reads of a running proxy's own routes (`/status`, `/hosts`) for the CLI, with
 * one-line errors for the usual mistakes: nothing listening, wrong token, not a proxy;
 * over TCP or a `unix:` socket. Also the token the CLI sends: `--token`, else
 * `AURORA_SWARM_PROXY_TOKEN`, else the token file (`--token-file`, else
 * `AURORA_SWARM_PROXY_TOKEN_FILE`, else `~/.aurora-swarm/proxy-token` when present).
 */

import { type AgentEndpoint, createEndpoint } from '../hostfile/agent-endpoint.js';
import {
  defaultProxyTokenFile,
  PROXY_TOKEN_FILE_ENV_VAR,
  readProxyTokenFile,
} from '../internal/proxy-token-file.js';
import { Agent } from '../internal/undici-agent.js';
import { isUnixProxyUrl, unixSocketPathOf } from '../internal/unix-proxy-url.js';
import { errorCode } from '../pool/describe-failure.js';
import { POOL_PROXY_TOKEN_ENV_VAR } from '../pool/pool-options.js';
import { CliError, usageError } from './cli-errors.js';
import type { CliIo } from './cli-io.js';

/** How long a read of the proxy's own routes may take, in milliseconds. */
const PROXY_READ_TIMEOUT_MS = 10_000;

/** Why the proxy could not be reached, in words (as `wait` says it of agents). */
function causeOf(error: unknown): string {
  const code = errorCode(error);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOENT') return 'no such socket';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection closed';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (code === 'EACCES') return 'permission denied';
  if ((error as Error).name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `no answer within ${PROXY_READ_TIMEOUT_MS / 1000}s`;
  }
  return code ?? (error as Error).message;
}

/**
 * GET `{proxyUrl}{path}` and parse its JSON. Sent with undici's `request`, not `fetch`:
 * the proxy may listen on any port, also one of those `fetch` refuses for browsers'
 * sake (6000, 6666, 10080, ...).
 * @throws {CliError} unreachable, 401 (names --token and the variable), other statuses, not JSON.
 */
export async function readProxyJson(
  proxyUrl: string,
  path: string,
  token: string | undefined,
): Promise<unknown> {
  const socketPath = isUnixProxyUrl(proxyUrl) ? unixSocketPathOf(proxyUrl) : undefined;
  const url = `${proxyUrl}${path}`;
  const dispatcher = new Agent(socketPath === undefined ? {} : { socketPath });
  let status: number;
  let text: string;
  try {
    const target = new URL(socketPath === undefined ? url : `http://localhost${path}`);
    const response = await dispatcher.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: token ? { 'proxy-authorization': `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(PROXY_READ_TIMEOUT_MS),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    throw new CliError(
      `cannot reach the proxy at ${proxyUrl}: ${causeOf(error)} (is it running? is the SSH tunnel up?)`,
    );
  } finally {
    await dispatcher.close();
  }
  if (status === 401) {
    throw new CliError(
      `the proxy at ${proxyUrl} answered 401: ${token ? 'wrong token' : 'it requires a token'} (pass --token or --token-file, or set ${POOL_PROXY_TOKEN_ENV_VAR})`,
    );
  }
  if (status < 200 || status > 299) {
    throw new CliError(`GET ${url} answered ${status}: ${text.slice(0, 200)}`);
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

/**
 * The token the CLI sends to a proxy: `flag`, else `AURORA_SWARM_PROXY_TOKEN`, else
 * the token file (`fileFlag`, else `AURORA_SWARM_PROXY_TOKEN_FILE`, else
 * `~/.aurora-swarm/proxy-token` if it exists), as the pools read it.
 * @throws {CliError} (exit 2) for a named file that is missing or holds no token.
 */
export function resolveCliProxyToken(
  flag: string | undefined,
  fileFlag: string | undefined,
  io: CliIo,
): string | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = io.env[POOL_PROXY_TOKEN_ENV_VAR]?.trim();
  if (fromEnv) return fromEnv;
  const named = fileFlag ?? (io.env[PROXY_TOKEN_FILE_ENV_VAR]?.trim() || undefined);
  const content = readProxyTokenFile(named ?? defaultProxyTokenFile(io.env));
  if (content.kind === 'token') return content.token;
  if (content.kind === 'problem') throw usageError(content.problem);
  if (named !== undefined) throw usageError(`the token file ${named} does not exist`);
  return undefined;
}
