/**
 * Helpers for the proxy tests: purpose-built upstreams on 127.0.0.1:0, the proxy
 * in-process, raw HTTP requests (node:http keeps the request target byte for byte,
 * unlike fetch), and the real built proxy process.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type AgentEndpoint, createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import type { ProxyOptions } from '../../src/proxy/proxy-options.js';
import { startProxy } from '../../src/proxy/proxy-server.js';
import type { RunningProxy } from '../../src/proxy/running-proxy.js';
import { type ProxyStartedLine, parseProxyStartedLine } from '../../src/proxy/server/listening.js';

/** A node:http server on 127.0.0.1:0 that the test scripts. */
export interface TestUpstream {
  readonly server: Server;
  readonly port: number;
  readonly endpoint: AgentEndpoint;
  /** Emits `request` (request, response) and `aborted` (request) when a client leaves early. */
  readonly events: EventEmitter;
  close(): Promise<void>;
}

/** Start an upstream whose requests are answered by `handler`; closed after the test. */
export async function startUpstream(
  t: TestContext,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<TestUpstream> {
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    response.on('close', () => {
      if (!response.writableFinished) events.emit('aborted', request);
    });
    events.emit('request', request, response);
    handler(request, response);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const upstream: TestUpstream = {
    server,
    port,
    endpoint: createEndpoint('127.0.0.1', port),
    events,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
  t.after(() => upstream.close());
  return upstream;
}

/**
 * Start the proxy in-process on 127.0.0.1:0; its log lines are collected in `logLines`.
 * Health probing is off unless `options` turn it on, so that scripted upstreams see
 * only the requests a test sends.
 */
export async function startTestProxy(
  t: TestContext,
  endpoints: readonly AgentEndpoint[],
  options: ProxyOptions = {},
): Promise<TestProxy> {
  const logLines: string[] = [];
  const logged = new EventEmitter();
  const proxy = await startProxy(
    {
      endpoints,
      host: '127.0.0.1',
      port: 0,
      logSink: (line) => {
        logLines.push(line);
        logged.emit('line', line);
      },
      shutdownGraceSeconds: 0,
      healthIntervalSeconds: 0,
      ...options,
    },
    {},
  );
  t.after(() => proxy.destroy());
  return Object.assign(proxy, {
    logLines,
    waitForLog: (pattern: RegExp, after = 0) => {
      const seen = logLines.slice(after).find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve) => {
        const onLine = (line: string) => {
          if (!pattern.test(line)) return;
          logged.off('line', onLine);
          resolve(line);
        };
        logged.on('line', onLine);
      });
    },
  });
}

/** An in-process proxy with its log. */
export interface TestProxy extends RunningProxy {
  /** Every log line so far. */
  readonly logLines: string[];
  /** Resolves with the first log line matching `pattern` among lines `after` and later (seen or future). */
  waitForLog(pattern: RegExp, after?: number): Promise<string>;
}

/** A finished response: status, headers (lower-case and raw), body. */
export interface TestResponse {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

/** Options of {@link send}. */
export interface SendOptions {
  method?: string;
  /** Raw header pairs, sent as given (names keep their case, duplicates allowed). */
  headers?: Array<[string, string]>;
  body?: string | Buffer;
}

/** Raw header list with a Host header first (node:http adds none to raw header arrays). */
function rawHeaderList(url: URL, headers: Array<[string, string]> = []): string[] | undefined {
  if (headers.length === 0) return undefined;
  const hasHost = headers.some(([name]) => name.toLowerCase() === 'host');
  return [...(hasHost ? [] : ['Host', url.host]), ...headers.flat()];
}

/** Send a request with node:http: the path goes out byte for byte. */
export function send(
  baseUrl: string,
  path: string,
  options: SendOptions = {},
): Promise<TestResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path,
        headers: rawHeaderList(url, options.headers),
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 0,
            statusMessage: response.statusMessage ?? '',
            headers: response.headers,
            rawHeaders: response.rawHeaders,
            body,
            text: body.toString('utf8'),
          });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Start a request and hand back the live objects, for streaming and disconnect tests. */
export function open(
  baseUrl: string,
  path: string,
  options: SendOptions = {},
): { request: ReturnType<typeof httpRequest>; response: Promise<IncomingMessage> } {
  const url = new URL(baseUrl);
  const request = httpRequest({
    host: url.hostname,
    port: url.port,
    method: options.method ?? 'GET',
    path,
    headers: rawHeaderList(url, options.headers),
    agent: false,
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  request.end(options.body);
  return { request, response };
}

/** Open a chat completion for agent `agentIndex` through the proxy (streamed when asked). */
export function openChat(baseUrl: string, options: { stream?: boolean; agentIndex?: number } = {}) {
  const body: Record<string, unknown> = { messages: [{ role: 'user', content: 'x' }] };
  if (options.stream) body.stream = true;
  return open(baseUrl, `/agent/${options.agentIndex ?? 0}/v1/chat/completions`, {
    method: 'POST',
    headers: [['Content-Type', 'application/json']],
    body: JSON.stringify(body),
  });
}

/** Reads a response chunk by chunk without losing any (one listener, a queue). */
export interface ChunkReader {
  /** The next chunk as received; rejects if the stream ends or fails first. */
  next(): Promise<Buffer>;
  /** Everything after the chunks taken so far, once the stream ended. */
  rest(): Promise<Buffer>;
}

/** Start reading `stream` into a {@link ChunkReader}. */
export function readChunks(stream: IncomingMessage): ChunkReader {
  const queue: Buffer[] = [];
  const waiters: Array<{ resolve: (chunk: Buffer) => void; reject: (error: Error) => void }> = [];
  let ended = false;
  let failure: Error | undefined;
  const ending = new Promise<void>((resolve, reject) => {
    stream.on('end', () => {
      ended = true;
      for (const waiter of waiters.splice(0)) waiter.reject(new Error('stream ended'));
      resolve();
    });
    stream.on('error', (error) => {
      failure = error;
      for (const waiter of waiters.splice(0)) waiter.reject(error);
      reject(error);
    });
  });
  ending.catch(() => undefined);
  stream.on('data', (chunk: Buffer) => {
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(chunk);
    else queue.push(chunk);
  });
  return {
    next: () => {
      const chunk = queue.shift();
      if (chunk) return Promise.resolve(chunk);
      if (failure) return Promise.reject(failure);
      if (ended) return Promise.reject(new Error('stream ended'));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    rest: async () => {
      await ending;
      return Buffer.concat(queue.splice(0));
    },
  };
}

/** Resolve once a response stream ends abnormally (error or close without end). */
export function responseFailure(response: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    let ended = false;
    response.on('end', () => {
      ended = true;
    });
    response.on('error', () => resolve());
    response.on('close', () => {
      if (ended) reject(new Error('the response ended normally'));
      else resolve();
    });
    response.resume();
  });
}

/** A temporary directory removed after the test. */
export function temporaryDirectory(t: TestContext): string {
  const directory = mkdtempSync(join(tmpdir(), 'aurora-swarm-proxy-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Write `text` to a fresh hostfile and return its path. */
export function writeHostfile(t: TestContext, text: string): string {
  const path = join(temporaryDirectory(t), 'hostfile.txt');
  writeFileSync(path, text);
  return path;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The built `aurora-swarm-proxy` bin (this file runs from dist/test/proxy). */
export const PROXY_BIN = join(here, '..', '..', 'src', 'cli', 'aurora-swarm-proxy.js');
/** The built `aurora-swarm` bin. */
export const MAIN_BIN = join(here, '..', '..', 'src', 'cli', 'aurora-swarm.js');

/** A spawned proxy process with its stderr split into lines. */
export interface ProxyProcess {
  readonly child: ChildProcess;
  readonly stderrLines: string[];
  /** Resolves with the first stderr line (seen or future) matching `pattern`. */
  waitForLine(pattern: RegExp): Promise<string>;
  /** Resolves with the exit code once the process exited. */
  readonly exited: Promise<number | null>;
  stdout(): string;
}

/** Spawn a built bin (the proxy by default) with `args`; killed after the test. */
export function spawnProxy(
  t: TestContext,
  args: readonly string[],
  options: { env?: Record<string, string>; bin?: string } = {},
): ProxyProcess {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  delete env.AURORA_SWARM_HOSTFILE;
  delete env.AURORA_SWARM_PROXY_TOKEN;
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [options.bin ?? PROXY_BIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderrLines: string[] = [];
  const lines = new EventEmitter();
  let pending = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    pending += text;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      stderrLines.push(line);
      lines.emit('line', line);
    }
  });
  const exited = new Promise<number | null>((resolve) => {
    // 'close', not 'exit': it comes after stdout and stderr are drained, so a long
    // --help is read whole.
    child.on('close', (code) => {
      if (pending !== '') {
        stderrLines.push(pending);
        lines.emit('line', pending);
        pending = '';
      }
      resolve(code);
    });
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    stderrLines,
    exited,
    stdout: () => stdout,
    waitForLine: (pattern) => {
      const seen = stderrLines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const onLine = (line: string) => {
          if (!pattern.test(line)) return;
          lines.off('line', onLine);
          resolve(line);
        };
        lines.on('line', onLine);
        void exited.then(() => {
          lines.off('line', onLine);
          reject(
            new Error(`process exited before printing ${pattern}:\n${stderrLines.join('\n')}`),
          );
        });
      });
    },
  };
}

/** Matches the startup line of the proxy's log (INFO, the proxy's logger); read it with {@link parseStartupLine}. */
export const STARTUP_LINE =
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \[INFO\] aurora_swarm\.proxy: Proxy started — /;

/**
 * A single-process proxy's startup log line, read by the proxy's own parser.
 * @throws {AssertionError} when `line` is not one.
 */
export function parseStartupLine(line: string): ProxyStartedLine {
  assert.match(line, STARTUP_LINE);
  const started = parseProxyStartedLine(line);
  assert.ok(started !== undefined && started.workers === undefined, line);
  return started;
}

/** Wait for the startup line and return the proxy's base URL. */
export async function proxyUrlOf(proxy: ProxyProcess): Promise<string> {
  const started = parseStartupLine(await proxy.waitForLine(STARTUP_LINE));
  return `http://127.0.0.1:${started.port}`;
}
