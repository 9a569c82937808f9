/**
 * Which `Host` header values name this proxy: the guard against DNS rebinding. A web
 * page at `http://attacker.example:9090` whose name the attacker then points at
 * 127.0.0.1 reaches the proxy behind the user's SSH tunnel with its own name in
 * `Host`, and the browser lets the page read the answers (same origin). Refusing
 * every `Host` that is not one of this proxy's names closes that, as Jupyter does.
 *
 * Names accepted by default, with any port: `localhost`, every loopback address
 * (`127.x.x.x`, `[::1]`), the address bound (`--host`), the machine's host name (and
 * its first label) and, when bound to every interface (`0.0.0.0`, `::`), each
 * interface's address. `--allow-host NAME` adds a name (`.example.org` adds the
 * domain and every name under it; `*` turns the check off).
 *
 * {@link HostAllowlist.check} runs on every request: the list is built once, and a
 * check compares the header in place (no slicing, no lower-casing unless the header
 * has capitals, which browsers and HTTP clients never send).
 */

import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { InvalidOptionError } from '../../errors.js';
import { describeValue } from '../../internal/describe-value.js';

/** The host names and addresses of this machine, as the allowlist reads them. */
export interface MachineNames {
  /** Host names, e.g. `login01.cluster.example.org`. */
  readonly hostnames: readonly string[];
  /** Interface addresses (IPv4 and IPv6, without brackets). */
  readonly addresses: readonly string[];
}

/** This machine's host name and interface addresses (`os.hostname()`, `os.networkInterfaces()`). */
export function thisMachine(): MachineNames {
  const addresses: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) addresses.push(entry.address);
  }
  return { hostnames: [hostname()], addresses };
}

/** What {@link HostAllowlist.check} says of a `Host` header. */
export const HOST_ALLOWED = 0;
/** A well-formed `Host` that is not a name of this proxy. */
export const HOST_FOREIGN = 1;
/** Not `name[:port]` (empty, a bad port, an unclosed `[`). */
export const HOST_MALFORMED = 2;
/** {@link HOST_ALLOWED}, {@link HOST_FOREIGN} or {@link HOST_MALFORMED}. */
export type HostCheck = typeof HOST_ALLOWED | typeof HOST_FOREIGN | typeof HOST_MALFORMED;

/** Where the allowlist's names come from. */
export interface HostAllowlistOptions {
  /** The TCP address bound (`--host`), or `undefined` when listening on a Unix socket only. */
  readonly bindHost: string | undefined;
  /** `--allow-host` values, as {@link parseAllowedHost} returns them. */
  readonly allowHosts: readonly string[];
  /** This machine's names. @default thisMachine() */
  readonly machine?: MachineNames;
}

/** Everything meaning "every interface" as `--host`. */
const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]']);

const COLON = 0x3a;
const DOT = 0x2e;
const OPEN_BRACKET = 0x5b;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;
const LOOPBACK_V4_PREFIX = '127.';
const MAX_PORT_DIGITS = 5;

/** How a name is written in a `Host` header: lower case, IPv6 in brackets. */
function hostForm(name: string): string {
  const lower = name.trim().toLowerCase();
  return isIP(lower) === 6 ? `[${lower}]` : lower;
}

/**
 * Validate one `--allow-host` value: a host name, an IPv4 or IPv6 address, a
 * `.domain` (the domain and every name under it), or `*`. Returned in the form a
 * `Host` header uses.
 * @throws {InvalidOptionError} for a port, a scheme, spaces or other characters.
 */
export function parseAllowedHost(value: unknown): string {
  const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (text === '*') return text;
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(unbracketed) !== 0) return hostForm(unbracketed);
  if (/^\.?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(text)) {
    return text;
  }
  const hint = /:[0-9]+$/.test(text)
    ? ' without a port (every port is accepted)'
    : text.includes('/')
      ? ' without a scheme or path'
      : '';
  throw new InvalidOptionError(
    `invalid value ${describeValue(value)} for --allow-host: expected a host name or address${hint}, a .domain for every name under it, or * to accept any Host`,
  );
}

/** The `Host` names a proxy answers to, checked in place on every request. */
export class HostAllowlist {
  readonly #names: readonly string[];
  readonly #suffixes: readonly string[];
  readonly #anyHost: boolean;

  constructor(options: HostAllowlistOptions) {
    const machine = options.machine ?? thisMachine();
    const names = new Set<string>(['localhost', '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']);
    const suffixes: string[] = [];
    const bindHost = options.bindHost === undefined ? undefined : hostForm(options.bindHost);
    if (bindHost !== undefined) names.add(bindHost);
    for (const name of machine.hostnames) {
      const form = hostForm(name);
      if (form === '') continue;
      names.add(form);
      // `login01.cluster.example.org` is also reached as `login01`.
      if (isIP(form) === 0 && form.includes('.')) names.add(form.slice(0, form.indexOf('.')));
    }
    if (bindHost !== undefined && WILDCARD_HOSTS.has(bindHost)) {
      for (const address of machine.addresses) {
        // A scoped IPv6 address (fe80::1%eth0) cannot be written in a Host header as such.
        if (!address.includes('%')) names.add(hostForm(address));
      }
    }
    for (const allowed of options.allowHosts) {
      if (allowed.startsWith('.')) {
        suffixes.push(allowed);
        names.add(allowed.slice(1));
      } else {
        names.add(allowed);
      }
    }
    this.#anyHost = options.allowHosts.includes('*');
    this.#names = [...names];
    this.#suffixes = suffixes;
  }

  /** Whether every `Host` is accepted (`--allow-host '*'`). */
  get acceptsAny(): boolean {
    return this.#anyHost;
  }

  /** The names accepted (loopback IPv4 addresses, any port, besides them), for messages. */
  get names(): readonly string[] {
    return [...this.#names, ...this.#suffixes.map((suffix) => `*${suffix}`)];
  }

  /** Check a `Host` header value (`name`, `name:port`, `[v6]:port`). */
  check(host: string): HostCheck {
    if (this.#anyHost) return HOST_ALLOWED;
    const length = host.length;
    let end: number;
    if (host.charCodeAt(0) === OPEN_BRACKET) {
      end = host.indexOf(']') + 1;
    } else {
      const colon = host.indexOf(':');
      end = colon < 0 ? length : colon;
    }
    if (end <= 0) return HOST_MALFORMED;
    if (end < length) {
      const digits = length - end - 1;
      if (host.charCodeAt(end) !== COLON || digits < 1 || digits > MAX_PORT_DIGITS) {
        return HOST_MALFORMED;
      }
      for (let index = end + 1; index < length; index++) {
        const code = host.charCodeAt(index);
        if (code < DIGIT_ZERO || code > DIGIT_NINE) return HOST_MALFORMED;
      }
    }
    if (this.#matches(host, end)) return HOST_ALLOWED;
    const lower = host.toLowerCase();
    return lower !== host && this.#matches(lower, end) ? HOST_ALLOWED : HOST_FOREIGN;
  }

  /** Whether `host.slice(0, end)` is an accepted name, without slicing. */
  #matches(host: string, end: number): boolean {
    if (isLoopbackIPv4(host, end)) return true;
    const names = this.#names;
    for (let index = 0; index < names.length; index++) {
      const name = names[index] as string;
      if (name.length === end && host.startsWith(name)) return true;
    }
    const suffixes = this.#suffixes;
    for (let index = 0; index < suffixes.length; index++) {
      const suffix = suffixes[index] as string;
      if (end > suffix.length && host.startsWith(suffix, end - suffix.length)) return true;
    }
    return false;
  }
}

/**
 * Whether `host.slice(0, end)` is `127.` followed by digits and dots only: a loopback
 * address. Letters are not allowed, so no DNS name (`127.0.0.1.attacker.example`)
 * can pass as one.
 */
function isLoopbackIPv4(host: string, end: number): boolean {
  if (end <= LOOPBACK_V4_PREFIX.length || !host.startsWith(LOOPBACK_V4_PREFIX)) return false;
  for (let index = LOOPBACK_V4_PREFIX.length; index < end; index++) {
    const code = host.charCodeAt(index);
    if (code !== DOT && (code < DIGIT_ZERO || code > DIGIT_NINE)) return false;
  }
  return true;
}
