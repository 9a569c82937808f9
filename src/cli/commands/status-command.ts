import { Command } from 'commander';
import { PROXY_TOKEN_FILE_ENV_VAR } from '../../internal/proxy-token-file.js';
import { POOL_PROXY_TOKEN_ENV_VAR, PROXY_URL_ENV_VAR } from '../../pool/pool-options.js';
import { runAction, urlArgument, usageError } from '../cli-errors.js';
import type { CliIo, CliOutcome } from '../cli-io.js';
import { type CliStyle, cliStyle } from '../cli-style.js';
import { configureCommand } from '../configure-command.js';
import { formatTable, visibleLength } from '../format-table.js';
import { readProxyJson, resolveCliProxyToken } from '../proxy-client.js';
import { formatDuration } from '../run-progress.js';

interface StatusFlags {
  proxy?: string;
  token?: string;
  tokenFile?: string;
  json?: boolean;
  wide?: boolean;
}

const HELP_AFTER = `
Reads the proxy's GET /status and shows one line per agent: index, host, port, tags,
health, requests in flight, requests, errors, median latency and the last error (local
time), cut to fit 100 columns. --wide shows every field the proxy reports; --json the
raw answer.

Examples:
  $ aurora-swarm status --proxy http://localhost:9090
  $ AURORA_SWARM_PROXY_URL=http://localhost:9090 aurora-swarm status
  $ aurora-swarm status --proxy http://localhost:9090 --wide
  $ aurora-swarm status --proxy http://localhost:9090 --json

Documentation: docs/cli.md`;

/** The leading columns; every other field follows in the order the proxy sends them. */
const FIXED_COLUMNS = ['index', 'host', 'port', 'tags'];
/** Cut long text (e.g. `last_error`) so one agent stays on one line. */
const MAX_CELL_CHARS = 48;
/** The default table fits this many columns. */
const NARROW_WIDTH = 100;
/** The narrow table's columns and the `/status` field each shows. */
const NARROW_COLUMNS: ReadonlyArray<[string, string]> = [
  ['index', 'index'],
  ['host', 'host'],
  ['port', 'port'],
  ['tags', 'tags'],
  ['healthy', 'healthy'],
  ['busy', 'in_flight'],
  ['reqs', 'requests'],
  ['errs', 'errors'],
  ['p50ms', 'latency_ms.p50'],
  ['last error', 'last_error'],
];
/** The summary counters the narrow view shows after the agents and the uptime. */
const NARROW_SUMMARY: ReadonlyArray<[string, string]> = [
  ['in_flight', 'in flight'],
  ['queued', 'queued'],
  ['requests_total', 'requests'],
];

/** How `formatStatus` lays the table out. */
export interface StatusFormat {
  /** Every field the proxy reports, instead of the columns that fit 100 characters. */
  wide?: boolean;
}

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

/** `2025-01-15 10:00:00` in local time, as the proxy's log lines; `HH:MM:SS` when `short`. */
export function formatLocalTime(iso: string, short = false): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (value: number) => String(value).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return short
    ? time
    : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

function formatCell(column: string, value: unknown, style: CliStyle, maxChars: number): string {
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
  const shown = /_at$/.test(column) ? formatLocalTime(text) : text;
  return cut(shown.replace(/\s+/g, ' '), maxChars);
}

/** `x4000c0s0b0n0` for `x4000c0s0b0n0.hostmgmt2000.cm.aurora.alcf.anl.gov`; addresses whole. */
function shortHost(host: string): string {
  if (/^[\d.]+$/.test(host) || host.includes(':')) return host;
  return host.split('.', 1)[0] || host;
}

function cut(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, Math.max(1, maxChars - 1))}…` : text;
}

function formatTags(tags: unknown): string {
  if (tags === null || typeof tags !== 'object') return '-';
  const entries = Object.entries(tags as Record<string, unknown>);
  return entries.length === 0 ? '-' : entries.map(([key, value]) => `${key}=${value}`).join(',');
}

function summaryLine(
  proxyUrl: string,
  rest: Record<string, unknown>,
  style: CliStyle,
  wide: boolean,
): string {
  const summary = new Map<string, unknown>();
  flatten(rest, '', summary);
  let parts: string[];
  if (wide) {
    parts = [...summary].map(([key, value]) =>
      key === 'uptime_seconds' && typeof value === 'number'
        ? `up ${formatDuration(value)}`
        : `${key.replace(/_/g, ' ')} ${formatCell(key, value, style, MAX_CELL_CHARS)}`,
    );
  } else {
    // The few numbers an operator looks at first, short: 20 agents (18 healthy), up 2m05s, ...
    const number = (key: string) => {
      const value = summary.get(key);
      return typeof value === 'number' ? value : undefined;
    };
    const healthy = number('healthy_agents');
    const uptime = number('uptime_seconds');
    parts = [
      `${number('agents') ?? '?'} agent(s)${healthy === undefined ? '' : ` (${healthy} healthy)`}`,
      ...(uptime === undefined ? [] : [`up ${formatDuration(uptime)}`]),
      ...NARROW_SUMMARY.flatMap(([key, label]) => {
        const value = number(key);
        return value === undefined ? [] : [`${value} ${label}`];
      }),
    ];
  }
  return `${style.bold(`proxy ${proxyUrl}`)}: ${parts.join(', ')}\n`;
}

/** Each agent's fields flattened; a scalar next to its own nested fields (null beside `.p50`) is dropped. */
function agentRows(endpoints: unknown[]): Array<Map<string, unknown>> {
  const rows = endpoints.map((endpoint) => {
    const cells = new Map<string, unknown>();
    const { tags, ...fields } = (endpoint ?? {}) as Record<string, unknown>;
    flatten(fields, '', cells);
    cells.set('tags', formatTags(tags));
    return cells;
  });
  const nested = new Set<string>();
  for (const cells of rows) {
    for (const key of cells.keys()) {
      const dot = key.indexOf('.');
      if (dot > 0) nested.add(key.slice(0, dot));
    }
  }
  for (const cells of rows) for (const key of nested) cells.delete(key);
  return rows;
}

/**
 * The narrow table: chosen columns under short headers (busy = requests in flight), host names
 * without their domain, the last error with its local time, cut to fit 100 columns.
 */
function narrowTable(rows: Array<Map<string, unknown>>, style: CliStyle): string {
  const cellsOf = (cells: Map<string, unknown>, lastErrorChars: number, otherChars: number) =>
    NARROW_COLUMNS.map(([column, field]) => {
      if (column === 'last error') {
        const error = cells.get('last_error');
        if (error === null || error === undefined || error === '') return '-';
        const at = cells.get('last_error_at');
        const when = typeof at === 'string' ? `${formatLocalTime(at, true)} ` : '';
        return cut(`${when}${String(error).replace(/\s+/g, ' ').trim()}`, lastErrorChars);
      }
      if (column === 'host') return cut(shortHost(String(cells.get(field) ?? '-')), otherChars);
      if (column === 'tags') return cut(String(cells.get(field)), Math.ceil(otherChars * 0.75));
      return formatCell(column, cells.get(field), style, otherChars);
    });
  const headers = NARROW_COLUMNS.map(([column]) => column);
  const render = (lastErrorChars: number, otherChars: number) =>
    formatTable(
      headers,
      rows.map((cells) => cellsOf(cells, lastErrorChars, otherChars)),
    );
  const widest = (table: string) =>
    Math.max(...table.split('\n').map((line) => visibleLength(line)));
  // The last error takes what the other columns leave; long host names and tags are cut
  // first only as far as needed to leave it a readable width.
  let table = render(Number.POSITIVE_INFINITY, MAX_CELL_CHARS);
  for (const otherChars of [32, 24, 20, 16, 12]) {
    const uncut = render(Number.POSITIVE_INFINITY, otherChars);
    const overflow = widest(uncut) - NARROW_WIDTH;
    if (overflow <= 0) return uncut;
    const lastErrorWidth = Math.max(
      ...rows.map((cells) => cellsOf(cells, Infinity, otherChars).at(-1)?.length ?? 0),
    );
    const fitted = lastErrorWidth - overflow;
    table = render(Math.max(8, fitted), otherChars);
    if (fitted >= 20) return table;
  }
  return table;
}

/** The readable form of a `/status` body: a summary line, then the agents' table. */
export function formatStatus(
  proxyUrl: string,
  status: unknown,
  style: CliStyle,
  format: StatusFormat = {},
): string {
  if (status === null || typeof status !== 'object') {
    return `${proxyUrl}: unexpected /status answer ${JSON.stringify(status)}\n`;
  }
  const { endpoints, ...rest } = status as Record<string, unknown>;
  const wide = format.wide === true;
  const text = summaryLine(proxyUrl, rest, style, wide);
  if (!Array.isArray(endpoints) || endpoints.length === 0) return `${text}(no agents)\n`;
  const rows = agentRows(endpoints);
  if (!wide) return `${text}\n${narrowTable(rows, style)}`;
  const columns = [...FIXED_COLUMNS];
  for (const cells of rows) {
    for (const key of cells.keys()) if (!columns.includes(key)) columns.push(key);
  }
  const table = formatTable(
    columns,
    rows.map((cells) =>
      columns.map((column) => formatCell(column, cells.get(column), style, MAX_CELL_CHARS)),
    ),
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
  else {
    io.stdout(
      formatStatus(proxyUrl, status, cliStyle(io, 'stdout'), { wide: flags.wide === true }),
    );
  }
  return 0;
}

/** `aurora-swarm status`: the proxy's `/status` as a table. */
export function createStatusCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = new Command('status')
    .description("show the proxy's agents and their counters as a table (--wide: every field)")
    .option('--proxy <url>', `the proxy (falls back to ${PROXY_URL_ENV_VAR})`, urlArgument)
    .option('--token <token>', `the proxy's token (falls back to ${POOL_PROXY_TOKEN_ENV_VAR})`)
    .option('--wide', 'every field the proxy reports (wider than 100 columns)')
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
