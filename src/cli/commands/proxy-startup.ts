/**
 * What `aurora-swarm-proxy` does around the start of the proxy, beside the proxy
 * itself: the token of `--token auto` / `--token-file` (and the line telling the
 * laptop how to fetch it), the `--pid-file`, and the line after `Proxy started`
 * naming the process, its hostfile and how to reload it.
 */
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { InvalidOptionError, ProxyStartError } from '../../errors.js';
import {
  defaultProxyTokenFile,
  loadOrCreateProxyToken,
  PROXY_TOKEN_FILE_ENV_VAR,
} from '../../internal/proxy-token-file.js';
import type { ProxyLogger } from '../../proxy/proxy-logger.js';
import { HOSTFILE_ENV_VAR, PROXY_TOKEN_ENV_VAR } from '../../proxy/proxy-options.js';
import type { CliIo } from '../cli-io.js';
import { writePidFile } from '../pid-file.js';
import { AUTO_TOKEN, type ProxyFlags } from './proxy-flags.js';

/** `path` as a shell word (quoted only when it must be). */
function shellWord(path: string): string {
  return /^[\w@%+=:,./~-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

/** The token the proxy uses, and (for `--token auto`) the line that says where it is kept. */
export interface ProxyToken {
  /** The token, or `undefined` for none (or `AURORA_SWARM_PROXY_TOKEN`, read by startProxy). */
  readonly token: string | undefined;
  /** Whether it came from `--token auto` (workers then get it from the primary). */
  readonly auto: boolean;
  readonly notice: string | undefined;
}

/**
 * `--token auto` (or `--token-file PATH` alone): the token kept in the token file, or
 * a new one written there. A `--workers` worker takes the primary's, passed in
 * `AURORA_SWARM_PROXY_TOKEN`, so that all of them check the same token.
 * @throws {InvalidOptionError} for a literal token with --token-file, or an unfit token file.
 */
export function resolveProxyToken(flags: ProxyFlags, io: CliIo, inWorker: boolean): ProxyToken {
  const auto =
    flags.token === AUTO_TOKEN || (flags.token === undefined && flags.tokenFile !== undefined);
  if (!auto) {
    if (flags.tokenFile !== undefined) {
      throw new InvalidOptionError(
        `--token-file is where --token ${AUTO_TOKEN} keeps its token: give either --token ${AUTO_TOKEN} (with or without --token-file) or a literal --token, not both`,
      );
    }
    return { token: flags.token, auto: false, notice: undefined };
  }
  if (inWorker) {
    const token = io.env[PROXY_TOKEN_ENV_VAR];
    if (!token) throw new ProxyStartError("this worker was started without the primary's token");
    return { token, auto: true, notice: undefined };
  }
  const path = resolve(
    flags.tokenFile ?? (io.env[PROXY_TOKEN_FILE_ENV_VAR] || defaultProxyTokenFile(io.env)),
  );
  const kept = loadOrCreateProxyToken(path);
  if (kept.kind === 'problem')
    throw new InvalidOptionError(`--token ${AUTO_TOKEN}: ${kept.problem}`);
  const where = `${userInfo().username}@${hostname()}`;
  return {
    token: kept.token,
    auto: true,
    notice:
      `${kept.created ? 'New proxy token written to' : 'Proxy token read from'} ${path} (mode 600; the CLI and pools on this machine read it); ` +
      `on your laptop: export ${PROXY_TOKEN_ENV_VAR}="$(ssh ${where} cat ${shellWord(path)})"`,
  };
}

/**
 * The lines after `Proxy started` (never in it: the usage guide shows that line, and
 * scripts read it): which process serves which hostfile, how to reload it, and where
 * `--token auto` keeps its token.
 */
export function announceProcess(
  logger: ProxyLogger,
  flags: ProxyFlags,
  io: CliIo,
  token: ProxyToken,
): void {
  const hostfile = flags.hostfile ?? io.env[HOSTFILE_ENV_VAR];
  const reload =
    flags.pidFile === undefined
      ? `kill -HUP ${process.pid}`
      : `kill -HUP $(cat ${shellWord(resolve(flags.pidFile))})`;
  logger.info(
    `Proxy pid ${process.pid} serving hostfile ${hostfile === undefined ? '(none)' : resolve(hostfile)} (reload it: ${reload})`,
  );
  if (token.notice !== undefined) logger.info(token.notice);
}

/** Write `--pid-file` once listening; false (logged) when it cannot be written. */
export function writePidFileOf(flags: ProxyFlags, logger: ProxyLogger): boolean {
  if (flags.pidFile === undefined) return true;
  try {
    writePidFile(flags.pidFile);
    return true;
  } catch (error) {
    logger.error(
      `cannot write the pid file ${flags.pidFile}: ${error instanceof Error ? error.message : String(error)}; stopping`,
    );
    return false;
  }
}
