/**
 * Helpers for the fault and hostile-input tests: raw TCP exchanges (so the test
 * controls every byte), scripted raw upstreams that answer with invalid HTTP, a
 * canary server that must never be reached, and descriptor/memory readings of a
 * spawned proxy process.
 */
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

/** What came back on a raw connection. */
export interface RawAnswer {
  /** Status code of the first response, or undefined when none arrived. */
  status: number | undefined;
  /** Everything received, as latin1 text. */
  text: string;
  /** The body of the first response (when it had a Content-Length). */
  body: string;
  /** Whether the proxy closed (or reset) the connection. */
  closed: boolean;
}

const HEAD_END = '\r\n\r\n';
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/**
 * Where the final response of `text` starts: past any interim 1xx heads (a `100 Continue`
 * that Node sends by itself for `Expect: 100-continue`, or an agent's `103 Early Hints`),
 * which have no body. `101 Switching Protocols` is final. `undefined` while an interim
 * head is still incomplete.
 */
function finalResponseStart(text: string): number | undefined {
  let start = 0;
  for (;;) {
    const status = Number(STATUS_LINE.exec(text.slice(start, start + 16))?.[1]);
    if (!(status >= 100 && status < 200 && status !== 101)) return start;
    const headEnd = text.indexOf(HEAD_END, start);
    if (headEnd < 0) return undefined;
    start = headEnd + HEAD_END.length;
  }
}

/** Parse the first complete final response in `text` (Content-Length framed), if any. */
function firstResponse(text: string): { status: number; body: string } | undefined {
  const start = finalResponseStart(text);
  if (start === undefined) return undefined;
  const headEnd = text.indexOf(HEAD_END, start);
  if (headEnd < 0) return undefined;
  const head = text.slice(start, headEnd);
  const status = Number(STATUS_LINE.exec(head)?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length === undefined) return undefined;
  const body = text.slice(headEnd + HEAD_END.length);
  if (body.length < Number(length)) return undefined;
  return { status, body: body.slice(0, Number(length)) };
}

/**
 * Write `bytes` to a fresh connection and resolve once a complete response arrived or
 * the proxy closed the connection. `afterWrite` may keep writing (slow clients).
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  afterWrite?: (socket: Socket) => void,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      const response = firstResponse(text);
      const statusText = STATUS_LINE.exec(text.slice(finalResponseStart(text) ?? 0))?.[1];
      resolve({
        status: response?.status ?? (statusText === undefined ? undefined : Number(statusText)),
        text,
        body: response?.body ?? '',
        closed,
      });
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (firstResponse(text) !== undefined) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    afterWrite?.(socket);
  });
}

/** A TCP server that counts connections; it must stay at zero. */
export interface Canary {
  readonly port: number;
  connections(): number;
}

/** Start a canary on loopback, closed after the test. */
export async function startCanary(t: TestContext): Promise<Canary> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\ncanary');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => closeServer(server, sockets));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

/** A raw upstream: `onConnection` writes whatever bytes it likes. */
export interface RawUpstream {
  readonly port: number;
  /** Sockets that closed after a request arrived, before `onConnection` ended them itself. */
  readonly events: { requests: number; closedByPeer: number };
  /** Resolves when the next connection closes from the proxy's side. */
  nextPeerClose(): Promise<void>;
  close(): Promise<void>;
}

/** Start a raw upstream on loopback that answers each request by `answer(socket)`. */
export async function startRawUpstream(
  t: TestContext,
  answer: (socket: Socket) => void,
): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const events = { requests: 0, closedByPeer: 0 };
  let peerCloseWaiters: Array<() => void> = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    let answered = false;
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (answered || !head.includes(HEAD_END)) return;
      answered = true;
      events.requests++;
      answer(socket);
    });
    socket.on('end', () => {
      events.closedByPeer++;
      for (const waiter of peerCloseWaiters) waiter();
      peerCloseWaiters = [];
      socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const upstream: RawUpstream = {
    port: (server.address() as AddressInfo).port,
    events,
    nextPeerClose: () =>
      new Promise((resolve) => {
        peerCloseWaiters.push(resolve);
      }),
    close: () => closeServer(server, sockets),
  };
  t.after(() => upstream.close());
  return upstream;
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/** Whether this system exposes /proc/<pid>/fd (Linux). */
export const HAS_PROC_FD = (() => {
  try {
    readdirSync('/proc/self/fd');
    return true;
  } catch {
    return false;
  }
})();

/** Open file descriptors of process `pid`. */
export function descriptorCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** What each open descriptor of `pid` points at (for failure messages). */
export function describeDescriptors(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return `${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
    } catch {
      return `${fd} -> (gone)`;
    }
  });
}

/** Resident memory of process `pid`, in bytes. */
export function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

/**
 * Wait until `pid`'s descriptor count is at most `target`, polling in short waits for a
 * bounded number of rounds (sockets close asynchronously in the other process; there is
 * no event to wait on across processes). Returns the last count.
 */
export async function descriptorsSettle(
  pid: number,
  target: number,
  { rounds = 250, waitMs = 20 } = {},
): Promise<number> {
  let count = descriptorCount(pid);
  for (let round = 0; round < rounds && count > target; round++) {
    await delay(waitMs);
    count = descriptorCount(pid);
  }
  return count;
}

/** Wait until `pid`'s descriptor count stops changing between two polls (bounded). */
export async function stableDescriptorCount(pid: number, { rounds = 100, waitMs = 20 } = {}) {
  let previous = descriptorCount(pid);
  for (let round = 0; round < rounds; round++) {
    await delay(waitMs);
    const count = descriptorCount(pid);
    if (count === previous) return count;
    previous = count;
  }
  return previous;
}
