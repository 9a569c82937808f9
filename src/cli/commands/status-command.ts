import { Command } from 'commander';
import { PROXY_TOKEN_FILE_ENV_VAR } from '../../internal/proxy-token-file.js';
import { POOL_PROXY_TOKEN_ENV_VAR, PROXY_URL_ENV_VAR } from '../../pool/pool-options.js';
import { runAction, urlArgument, usageError } from '../cli-errors.js';
import type { CliIo, CliOutcome } from '../cli-io.js';
import { type CliStyle, cliStyle } from '../cli-style.js';
import { configureCommand } from '../configure-command.js';
import { formatTable } from '../format-table.js';
import { readProxyJson, resolveCliProxyToken } from '../proxy-client.js';
import { formatDuration } from '../run-progress.js';

interface StatusFlags {
  proxy?: string;
  token?: string;
  tokenFile?: string;
  json?: boolean;
}

const HELP_AFTER = `
Reads the proxy's GET /status and shows one line per agent: index, host, port, tags and
every counter the proxy reports (health, requests in flight, requests, errors, ...).

Examples:
  $ aurora-swarm status --proxy http://localhost:9090
  $ AURORA_SWARM_PROXY_URL=http://localhost:9090 aurora-swarm status
  $ aurora-swarm status --proxy http://localhost:9090 --json

Documentation: docs/cli.md`;

/** The leading columns; every other field follows in the order the proxy sends them. */
const FIXED_COLUMNS = ['index', 'host', 'port', 'tags'];
/** Cut long text (e.g. `last_error`) so one agent stays on one line. */
const MAX_CELL_CHARS = 48;

/** One field flattened: nested objects become `parent.child` columns. */
function flatten(value: unknown, prefix: string, into: Map<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) {
      flatten(inner, prefix === '' ? key : `${prefix}.${key}`, into);
    }
  } else {
    into.set(prefix, value);
  }
}

function formatCell(column: string, value: unknown, style: CliStyle): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'boolean') {
    const text = value ? 'yes' : 'no';
    if (column === 'healthy') return value ? style.green(text) : style.red(text);
    return text;
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
  const text = Array.isArray(value) ? value.map(String).join(',') : String(value);
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX_CELL_CHARS ? `${oneLine.slice(0, MAX_CELL_CHARS - 1)}…` : oneLine;
}

function formatTags(tags: unknown): string {
  if (tags === null || typeof tags !== 'object') return '-';
  const entries = Object.entries(tags as Record<string, unknown>);
  return entries.length === 0 ? '-' : entries.map(([key, value]) => `${key}=${value}`).join(',');
}

/** The readable form of a `/status` body: a summary line, then the agents' table. */
export function formatStatus(proxyUrl: string, status: unknown, style: CliStyle): string {
  if (status === null || typeof status !== 'object') {
    return `${proxyUrl}: unexpected /status answer ${JSON.stringify(status)}\n`;
  }
  const { endpoints, ...rest } = status as Record<string, unknown>;
  const summary = new Map<string, unknown>();
  flatten(rest, '', summary);
  const parts = [...summary].map(([key, value]) =>
    key === 'uptime_seconds' && typeof value === 'number'
      ? `up ${formatDuration(value)}`
      : `${key.replace(/_/g, ' ')} ${formatCell(key, value, style)}`,
  );
  const text = `${style.bold(`proxy ${proxyUrl}`)}: ${parts.join(', ')}\n`;
  if (!Array.isArray(endpoints) || endpoints.length === 0) return `${text}(no agents)\n`;
  const rows = endpoints.map((endpoint) => {
    const cells = new Map<string, unknown>();
    const { tags, ...fields } = (endpoint ?? {}) as Record<string, unknown>;
    flatten(fields, '', cells);
    cells.set('tags', formatTags(tags));
    return cells;
  });
  const columns = [...FIXED_COLUMNS];
  for (const cells of rows) {
    for (const key of cells.keys()) if (!columns.includes(key)) columns.push(key);
  }
  const table = formatTable(
    columns,
    rows.map((cells) => columns.map((column) => formatCell(column, cells.get(column), style))),
  );
  return `${text}\n${table}`;
}

async function runStatus(flags: StatusFlags, io: CliIo): Promise<number> {
  let proxyUrl = flags.proxy;
  if (proxyUrl === undefined) {
    const fromEnv = io.env[PROXY_URL_ENV_VAR]?.trim();
    if (!fromEnv) throw usageError(`no proxy: pass --proxy URL or set ${PROXY_URL_ENV_VAR}`);
    try {
      proxyUrl = urlArgument(fromEnv);
    } catch (error) {
      throw usageError(
        `environment variable ${PROXY_URL_ENV_VAR}="${fromEnv}": ${(error as Error).message}`,
      );
    }
  }
  const token = resolveCliProxyToken(flags.token, flags.tokenFile, io);
  const status = await readProxyJson(proxyUrl, '/status', token);
  if (flags.json) io.stdout(`${JSON.stringify(status, null, 2)}\n`);
  else io.stdout(formatStatus(proxyUrl, status, cliStyle(io, 'stdout')));
  return 0;
}

/** `aurora-swarm status`: the proxy's `/status` as a table. */
export function createStatusCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = new Command('status')
    .description("show the proxy's agents and their counters as a table")
    .option('--proxy <url>', `the proxy (falls back to ${PROXY_URL_ENV_VAR})`, urlArgument)
    .option('--token <token>', `the proxy's token (falls back to ${POOL_PROXY_TOKEN_ENV_VAR})`)
    .option(
      '--token-file <path>',
      `file holding the proxy's token, read when there is no token (falls back to ${PROXY_TOKEN_FILE_ENV_VAR}, then ~/.aurora-swarm/proxy-token)`,
    )
    .option('--json', 'print the raw /status JSON instead')
    .addHelpText('after', HELP_AFTER);
  command.action((flags: StatusFlags) =>
    runAction(command, io, outcome, () => runStatus(flags, io)),
  );
  return configureCommand(command, io);
}
