import { isIPv4, isIPv6 } from 'node:net';
import { HostfileError } from '../errors.js';
import { type AgentEndpoint, createEndpoint } from './agent-endpoint.js';

/** Port used when a hostfile line names none. */
export const DEFAULT_AGENT_PORT = 8000;

/** Options of {@link parseHostfileText}. */
export interface ParseHostfileTextOptions {
  /** Name used in error messages. @default '<text>' */
  path?: string;
}

// A DNS name or IPv4 address: letters, digits, '-', '_', '.'. Anything else
// ('/', '@', '?', '#', '%', spaces) could change the meaning of the URL built from it.
const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const DIGITS = /^[0-9]+$/;

/**
 * Parse hostfile text into endpoints; the array index is the agent's global index.
 *
 * Format: one agent per line, `host<TAB>port[<TAB>key=value]...`. Blank lines and
 * lines whose first non-blank character is `#` are ignored, as is everything from a
 * field that starts with `#`. CRLF line ends and a UTF-8 BOM are accepted. Runs of
 * spaces work as separators, `host:port` works in the first field, and a missing port
 * means 8000. Tags split at the first `=`; a later duplicate key wins.
 *
 * @throws {HostfileError} `ERR_HOSTFILE_SYNTAX` naming the path and 1-based line number.
 * @example parseHostfileText('compute-001\t8000\trole=worker\n')
 */
export function parseHostfileText(
  text: string,
  options: ParseHostfileTextOptions = {},
): AgentEndpoint[] {
  const path = options.path ?? '<text>';
  const endpoints: AgentEndpoint[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const endpoint = parseLine(lines[index] ?? '', path, index + 1);
    if (endpoint) endpoints.push(endpoint);
  }
  return endpoints;
}

function parseLine(line: string, path: string, lineNumber: number): AgentEndpoint | undefined {
  const fields: string[] = [];
  for (const field of line.trim().split(/\s+/)) {
    if (field.startsWith('#')) break;
    if (field !== '') fields.push(field);
  }
  if (fields.length === 0) return undefined;

  const fail = (message: string): never => {
    throw new HostfileError('ERR_HOSTFILE_SYNTAX', `${path}:${lineNumber}: ${message}`, {
      path,
      lineNumber,
    });
  };

  const [first = '', ...rest] = fields;
  let { host, port } = splitHostField(first, fail);
  const tags: Record<string, string> = {};
  rest.forEach((field, position) => {
    const equals = field.indexOf('=');
    if (equals > 0) {
      tags[field.slice(0, equals)] = field.slice(equals + 1);
      return;
    }
    if (equals === 0) fail(`tag ${JSON.stringify(field)} has an empty key (expected key=value)`);
    if (position === 0 && DIGITS.test(field)) {
      if (port !== undefined) {
        fail(`port given twice: in ${JSON.stringify(first)} and as ${JSON.stringify(field)}`);
      }
      port = parsePort(field, fail);
      return;
    }
    fail(
      position === 0
        ? `expected a port (an integer 1-65535) or a key=value tag after the host, got ${JSON.stringify(field)}`
        : `expected a key=value tag, got ${JSON.stringify(field)}`,
    );
  });
  return createEndpoint(host, port ?? DEFAULT_AGENT_PORT, tags);
}

function splitHostField(
  field: string,
  fail: (message: string) => never,
): { host: string; port: number | undefined } {
  let host = field;
  let portText: string | undefined;
  if (field.startsWith('[')) {
    // [IPv6] or [IPv6]:port
    const close = field.indexOf(']');
    if (close < 0) fail(`unclosed '[' in host ${JSON.stringify(field)}`);
    host = field.slice(1, close);
    const after = field.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':'))
        fail(`unexpected ${JSON.stringify(after)} after ${field.slice(0, close + 1)}`);
      portText = after.slice(1);
    }
    if (!isPlainIPv6(host)) fail(`invalid IPv6 address ${JSON.stringify(host)}`);
  } else {
    const colons = field.split(':').length - 1;
    if (colons === 1) {
      const colon = field.indexOf(':');
      host = field.slice(0, colon);
      portText = field.slice(colon + 1);
    } else if (colons > 1) {
      if (!isPlainIPv6(field)) fail(`invalid host ${JSON.stringify(field)}`);
      return { host: field, port: undefined };
    }
    if (host === '') fail('empty host');
    // A name whose last label is a number is read as IPv4 by URL parsers ('a.0', '09',
    // '10.1' → 10.0.0.1): accept it only as a plain dotted quad, never reinterpreted.
    const lastLabel = host.slice(host.lastIndexOf('.') + 1);
    if (/^(?:[0-9]+|0x[0-9a-f]*)$/i.test(lastLabel) && !isIPv4(host)) {
      fail(`invalid host ${JSON.stringify(host)} (ends in a number but is not an IPv4 address)`);
    }
    if (!HOSTNAME.test(host)) {
      fail(`invalid host ${JSON.stringify(host)} (letters, digits, '-', '_' and '.' only)`);
    }
  }
  return { host, port: portText === undefined ? undefined : parsePort(portText, fail) };
}

// Zone ids ('%eth0') are refused: they cannot be written in an http URL.
function isPlainIPv6(host: string): boolean {
  return isIPv6(host) && !host.includes('%');
}

function parsePort(text: string, fail: (message: string) => never): number {
  if (!DIGITS.test(text)) fail(`port ${JSON.stringify(text)} is not an integer in 1-65535`);
  const port = Number(text);
  if (port < 1 || port > 65535) fail(`port ${text} is out of range 1-65535`);
  return port;
}
