/**
 * What `run` and `job work` share about the swarm they send to: the flags (the agents, the
 * proxy and its token, the model and the pool's limits, `--dispatch`, `--outage-timeout`), where the proxy
 * URL, its token and the hostfile fall back to in the environment, the pool built from
 * them, and the one-line messages of an outage.
 *
 * Each command adds these groups among its own flags. A new pool flag goes in
 * {@link addPoolFlags}, {@link PoolFlags} and {@link createSwarmPool}; both commands get it.
 *
 * The one deliberate difference is how the proxy and the hostfile combine
 * ({@link SwarmPolicy}): `run` may use both (the hostfile is then checked against the
 * proxy's), while a `job work` worker sends to exactly one swarm.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { parseHostfile } from '../hostfile/parse-hostfile.js';
import {
  DEFAULT_CONCURRENCY,
  POOL_PROXY_TOKEN_ENV_VAR,
  PROXY_TOKEN_FILE_ENV_VAR,
  PROXY_URL_ENV_VAR,
} from '../pool/pool-options.js';
import type { DispatchPolicy } from '../pool/types.js';
import { VLLMPool } from '../pool/vllm-pool.js';
import { DEFAULT_VLLM_POOL_TIMEOUT_MS } from '../pool/vllm-pool-options.js';
import { HOSTFILE_ENV_VAR } from '../proxy/proxy-options.js';
import { DEFAULT_OUTAGE_TIMEOUT_MS, type OutageNotice } from '../run/outage-guard.js';
import {
  positiveIntegerArgument,
  positiveSecondsArgument,
  urlArgument,
  usageError,
} from './cli-errors.js';
import type { CliIo } from './cli-io.js';
import { readProxyHosts, resolveCliProxyToken } from './proxy-client.js';
import { formatDuration } from './run-progress.js';

/** `--hostfile`, `--proxy` (`--no-proxy`), `--token` after parsing. */
export interface SwarmTargetFlags {
  hostfile?: string;
  /** A URL, `false` after `--no-proxy`, or undefined (then the environment decides). */
  proxy?: string | false;
  token?: string;
  tokenFile?: string;
}

/** The pool's flags after parsing. */
export interface PoolFlags {
  model?: string;
  concurrency: number;
  maxTokens?: number;
  /** Seconds. */
  timeout: number;
  /** How each prompt's agent is chosen (not a pool setting: the command's sending loop reads it). */
  dispatch: DispatchPolicy;
}

/** The values of `--dispatch`. */
export const DISPATCH_POLICIES: readonly DispatchPolicy[] = ['round-robin', 'least-loaded'];

/** `--outage-timeout` after parsing, in seconds. */
export interface OutageTimeoutFlags {
  outageTimeout: number;
}

/** Every flag of this module. */
export type SwarmFlags = SwarmTargetFlags & PoolFlags & OutageTimeoutFlags;

/** How a command's `--hostfile` and `--proxy` read (the flag's own words; the fallback is added). */
export interface SwarmTargetTexts {
  hostfile: string;
  proxy: string;
  /** Give `--no-proxy` with this text (a command that may ignore `AURORA_SWARM_PROXY_URL`). */
  noProxy?: string;
}

/** `-f, --hostfile`, `--proxy` (and `--no-proxy`), `--token`, `--token-file`. */
export function addSwarmTargetFlags(command: Command, texts: SwarmTargetTexts): Command {
  command
    .option('-f, --hostfile <path>', `${texts.hostfile} (falls back to ${HOSTFILE_ENV_VAR})`)
    .addOption(
      new Option('--proxy <url>', `${texts.proxy} (falls back to ${PROXY_URL_ENV_VAR})`).argParser(
        urlArgument,
      ),
    );
  if (texts.noProxy !== undefined) command.option('--no-proxy', texts.noProxy);
  return command
    .option('--token <token>', `the proxy's token (falls back to ${POOL_PROXY_TOKEN_ENV_VAR})`)
    .option(
      '--token-file <path>',
      `file holding the proxy's token, read when there is no token (falls back to ${PROXY_TOKEN_FILE_ENV_VAR}, then ~/.aurora-swarm/proxy-token)`,
    );
}

/** `-m, --model`, `-c, --concurrency`, `--max-tokens`, `-t, --timeout`, `--dispatch`. */
export function addPoolFlags(command: Command, texts: { concurrency: string }): Command {
  return command
    .option('-m, --model <name>', 'model name (default: the one the agents serve, from /v1/models)')
    .addOption(
      new Option('-c, --concurrency <count>', texts.concurrency)
        .argParser(positiveIntegerArgument)
        .default(DEFAULT_CONCURRENCY),
    )
    .addOption(
      new Option(
        '--max-tokens <count>',
        'upper bound on generated tokens per prompt (default: AURORA_SWARM_MAX_TOKENS, else 512; lowered to fit the context)',
      ).argParser(positiveIntegerArgument),
    )
    .addOption(
      new Option('-t, --timeout <seconds>', 'timeout of one prompt, in seconds')
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_VLLM_POOL_TIMEOUT_MS / 1000),
    )
    .addOption(
      new Option(
        '--dispatch <policy>',
        'round-robin: each prompt to the next agent in turn (the Python original); least-loaded: each prompt to the agent with the fewest prompts in flight, dead agents skipped, failed connections sent to another agent',
      )
        .choices(DISPATCH_POLICIES as string[])
        .default('round-robin'),
    );
}

/** `--outage-timeout <seconds>`; `also` names what else the command waits for (Redis). */
export function addOutageTimeoutFlag(command: Command, also = ''): Command {
  return command.addOption(
    new Option(
      '--outage-timeout <seconds>',
      `how long to wait for an unreachable proxy (or, without one, swarm)${also} before stopping as interrupted (exit 130; a rerun resumes)`,
    )
      .argParser(positiveSecondsArgument)
      .default(DEFAULT_OUTAGE_TIMEOUT_MS / 1000),
  );
}

/** An environment variable, trimmed; undefined when unset or blank. */
export function environmentValue(io: CliIo, name: string): string | undefined {
  const value = io.env[name]?.trim();
  return value ? value : undefined;
}

/** `AURORA_SWARM_PROXY_URL`, checked as `--proxy` would be. */
function proxyUrlFromEnvironment(io: CliIo): string | undefined {
  const fromEnv = environmentValue(io, PROXY_URL_ENV_VAR);
  if (fromEnv === undefined) return undefined;
  try {
    return urlArgument(fromEnv);
  } catch (error) {
    const reason = error instanceof InvalidArgumentError ? error.message : String(error);
    throw usageError(`environment variable ${PROXY_URL_ENV_VAR}="${fromEnv}": ${reason}`);
  }
}

/**
 * How `--proxy` and `--hostfile` (and their environment variables) combine:
 * - `combine` (`run`): the proxy is `--proxy`, else `AURORA_SWARM_PROXY_URL` unless
 *   `--no-proxy`; the hostfile is `--hostfile`, else `AURORA_SWARM_HOSTFILE`. With both, the
 *   hostfile must match the proxy's agents; with the proxy alone, its agents are used.
 * - `one-of` (`job work`): one swarm, either the proxy's or a hostfile's. Both flags at once
 *   are refused; a flag of one kind wins over the other's environment variable; with no flag,
 *   `AURORA_SWARM_PROXY_URL` comes before `AURORA_SWARM_HOSTFILE`.
 */
export type SwarmPolicy = 'combine' | 'one-of';

/** The swarm a command sends to. */
export interface SwarmTarget {
  /** The agents, in hostfile order (global index = position). */
  endpoints: AgentEndpoint[];
  /** The proxy everything goes through, if any. */
  proxyUrl: string | undefined;
  /** The proxy's token, if any. */
  token: string | undefined;
  /** The hostfile the agents were read from, if any (else the proxy's `/hosts`). */
  hostfile: string | undefined;
  /** The agents in words: `4 agent(s) of hostfile.txt`, `the proxy's 4 agent(s)`. */
  agents: string;
}

/**
 * Which swarm the flags and the environment name (`proxyUrl`, `hostfile`), checked without
 * reading anything: a command can refuse contradictory or missing flags before other work.
 * @throws {CliError} (exit 2) when they name none, or both where `policy` is `one-of`.
 */
export function chooseSwarmTarget(
  flags: SwarmTargetFlags,
  io: CliIo,
  policy: SwarmPolicy,
): { proxyUrl: string | undefined; hostfile: string | undefined } {
  let proxyUrl: string | undefined;
  let hostfile: string | undefined;
  if (policy === 'one-of') {
    if (flags.proxy !== undefined && flags.proxy !== false && flags.hostfile !== undefined) {
      throw usageError('pass --proxy or --hostfile, not both (a worker sends to one swarm)');
    }
    hostfile = flags.hostfile;
    if (flags.proxy !== false) {
      proxyUrl = flags.proxy ?? (hostfile === undefined ? proxyUrlFromEnvironment(io) : undefined);
    }
    if (proxyUrl === undefined) hostfile ??= environmentValue(io, HOSTFILE_ENV_VAR);
    if (proxyUrl === undefined && hostfile === undefined) {
      throw usageError(
        `no swarm: pass --proxy URL (or set ${PROXY_URL_ENV_VAR}) or --hostfile (or set ${HOSTFILE_ENV_VAR})`,
      );
    }
  } else {
    proxyUrl = flags.proxy === false ? undefined : (flags.proxy ?? proxyUrlFromEnvironment(io));
    hostfile = flags.hostfile ?? environmentValue(io, HOSTFILE_ENV_VAR);
    if (proxyUrl === undefined && hostfile === undefined) {
      throw usageError(
        `no agents: pass --hostfile (or set ${HOSTFILE_ENV_VAR}), or --proxy to use the proxy's agents`,
      );
    }
  }
  return { proxyUrl, hostfile };
}

/**
 * The swarm of the flags and the environment: the hostfile's agents, the proxy's (`/hosts`),
 * or both, checked against each other (see {@link SwarmPolicy}).
 * @throws {CliError} exit 2 for no swarm at all, a bad environment value, an empty hostfile,
 *   a hostfile that does not match the proxy's.
 */
export async function resolveSwarm(
  flags: SwarmTargetFlags,
  io: CliIo,
  policy: SwarmPolicy,
): Promise<SwarmTarget> {
  const { proxyUrl, hostfile } = chooseSwarmTarget(flags, io, policy);
  // Only a proxy needs a token: a direct run never reads (or trips over) the token file.
  const token =
    proxyUrl === undefined ? undefined : resolveCliProxyToken(flags.token, flags.tokenFile, io);
  const proxyHosts = proxyUrl === undefined ? undefined : await readProxyHosts(proxyUrl, token);
  if (hostfile === undefined) {
    if (proxyHosts === undefined || proxyHosts.length === 0) {
      throw usageError(`the proxy at ${proxyUrl} has no agents`);
    }
    const agents = `the proxy's ${proxyHosts.length} agent(s)`;
    return { endpoints: proxyHosts, proxyUrl, token, hostfile, agents };
  }
  const endpoints = parseHostfile(hostfile);
  if (endpoints.length === 0) throw usageError(`No endpoints found in hostfile ${hostfile}`);
  if (proxyHosts !== undefined) assertSameAgents(hostfile, endpoints, proxyHosts);
  const agents = `${endpoints.length} agent(s) of ${hostfile}`;
  return { endpoints, proxyUrl, token, hostfile, agents };
}

/**
 * Through a proxy, agent i of the hostfile is reached as /agent/i of the proxy: the two lists
 * must agree, or prompts would silently go to other agents.
 */
function assertSameAgents(
  hostfile: string,
  endpoints: readonly AgentEndpoint[],
  proxyHosts: readonly AgentEndpoint[],
): void {
  const mismatch = endpoints.findIndex((endpoint, index) => {
    const proxyHost = proxyHosts[index];
    return (
      proxyHost === undefined ||
      proxyHost.host !== endpoint.host ||
      proxyHost.port !== endpoint.port
    );
  });
  if (mismatch < 0) return;
  const ours = endpoints[mismatch];
  const theirs = proxyHosts[mismatch];
  throw usageError(
    `${hostfile} does not match the proxy's hostfile: agent ${mismatch} is ${ours?.host}:${ours?.port} here but ${theirs ? `${theirs.host}:${theirs.port}` : 'missing'} on the proxy (omit --hostfile to use the proxy's agents)`,
  );
}

/** The pool the flags describe, for the swarm `target`. Close it when done. */
export function createSwarmPool(flags: PoolFlags, target: SwarmTarget): VLLMPool {
  return new VLLMPool({
    endpoints: target.endpoints,
    model: flags.model,
    proxyUrl: target.proxyUrl ?? null,
    proxyToken: target.token,
    concurrency: flags.concurrency,
    timeoutMs: flags.timeout * 1000,
    ...(flags.maxTokens === undefined ? {} : { maxTokens: flags.maxTokens }),
  });
}

/** The one-line notice of an outage of the swarm (`run` and `job work` print the same). */
export function describeOutage(notice: OutageNotice): string {
  const agents = notice.target === 'the agents';
  if (notice.type === 'outage') {
    const what = agents ? 'none of the agents can be reached' : `${notice.target} is unreachable`;
    const every = `${formatDuration(notice.retryIntervalMs / 1000)} to ${formatDuration(notice.maxRetryIntervalMs / 1000)}`;
    return `${what}: waiting, retrying every ${every} for up to ${formatDuration(notice.outageTimeoutMs / 1000)} (--outage-timeout); Ctrl-C to stop, rerun resumes`;
  }
  if (notice.type === 'recovered') {
    return `${notice.target} answer${agents ? '' : 's'} again after ${formatDuration(notice.elapsedMs / 1000)}: carrying on (${notice.heldBack} prompt(s) held back are sent again)`;
  }
  return `${notice.target} ${agents ? 'have' : 'has'} been unreachable for ${formatDuration(notice.elapsedMs / 1000)} (--outage-timeout): stopping; rerun the same command to resume`;
}
