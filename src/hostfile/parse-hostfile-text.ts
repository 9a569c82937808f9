import { isIPv4, isIPv6 } from 'node:net';
import { HostfileError } from '../errors.js';
import { stripPythonWhitespace } from '../internal/python-whitespace.js';
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
 * lines whose first non-blank character is `#` are ignored. LF, CRLF and CR line ends
 * and a UTF-8 BOM are accepted. `host:port` works in the first field, a missing port
 * means 8000, tags split at the first `=` and a later duplicate key wins.
 *
 * A line that contains a tab is split on tabs only, exactly as the Python original's
 * parser splits it: spaces inside a field are kept (`desc=big node`), empty fields are
 * skipped, a field that starts with `#` is a comment. A line without a tab is split on
 * runs of whitespace, and everything from a field that starts with `#` is a comment.
 * Whatever the Python parser would silently misread (a port that is not a number, a
 * field that is neither a port nor a tag, a host with spaces) is an error here.
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
  // Python reads text files with universal newlines: \r\n, \r and \n all end a line.
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index++) {
    const endpoint = parseLine(lines[index] ?? '', path, index + 1);
    if (endpoint) endpoints.push(endpoint);
  }
  return endpoints;
}

function parseLine(line: string, path: string, lineNumber: number): AgentEndpoint | undefined {
  const fail = (message: string): never => {
    throw new HostfileError('ERR_HOSTFILE_SYNTAX', `${path}:${lineNumber}: ${message}`, {
      path,
      lineNumber,
    });
  };
  const stripped = stripPythonWhitespace(line);
  if (stripped.includes('\t')) return parseTabLine(stripped, fail);

  const fields: string[] = [];
  for (const field of line.trim().split(/\s+/)) {
    if (field.startsWith('#')) break;
    if (field !== '') fields.push(field);
  }
  if (fields.length === 0) return undefined;
  const [first = '', second, ...later] = fields;
  // The second field is the port when it is all digits, else already a tag.
  if (second !== undefined && DIGITS.test(second)) return endpointOf(first, second, later, fail);
  return endpointOf(first, undefined, second === undefined ? later : [second, ...later], fail);
}

// The Python original: `parts = line.strip().split('\t')`; parts[0] the host, parts[1] the
// port when it is all digits, every later part with a `=` a tag, anything else dropped.
function parseTabLine(line: string, fail: (message: string) => never): AgentEndpoint | undefined {
  if (line.startsWith('#')) return undefined;
  const [first = '', second = '', ...later] = line.split('\t');
  if (/\s/.test(first)) {
    fail(
      `host ${JSON.stringify(first)} contains whitespace (a line with a tab is split on tabs only)`,
    );
  }
  const meaningful = (field: string): boolean => field.trim() !== '' && !field.startsWith('#');
  const tags = later.filter(meaningful);
  if (!meaningful(second)) {
    if (tags[0] !== undefined && DIGITS.test(tags[0])) {
      fail(
        `the port must be the second field, got an empty second field before ${JSON.stringify(tags[0])} (a line with a tab is split on tabs only)`,
      );
    }
    return endpointOf(first, undefined, tags, fail);
  }
  if (DIGITS.test(second)) return endpointOf(first, second, tags, fail);
  return endpointOf(first, undefined, [second, ...tags], fail);
}

/** The endpoint of a host field, an optional port field and tag fields (`key=value`). */
function endpointOf(
  first: string,
  portField: string | undefined,
  tagFields: readonly string[],
  fail: (message: string) => never,
): AgentEndpoint {
  let { host, port } = splitHostField(first, fail);
  if (portField !== undefined) {
    if (port !== undefined) {
      fail(`port given twice: in ${JSON.stringify(first)} and as ${JSON.stringify(portField)}`);
    }
    port = parsePort(portField, fail);
  }
  const tags: Record<string, string> = {};
  tagFields.forEach((field, position) => {
    const equals = field.indexOf('=');
    if (equals > 0) {
      tags[field.slice(0, equals)] = field.slice(equals + 1);
      return;
    }
    if (equals === 0) fail(`tag ${JSON.stringify(field)} has an empty key (expected key=value)`);
    fail(
      position === 0 && portField === undefined
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
