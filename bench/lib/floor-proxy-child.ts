/**
 * Entry point of a child process running one of two *floor* proxies — experiments,
 * not products — that do the benchmark's path-prefix routing (`/agent/{i}/...` →
 * agent i) with nothing else, to show where the cost of our proxy is:
 *
 * - `minimal`: node:http's server and a bare undici `Client.dispatch` per request (one
 *   keep-alive pool per agent), headers copied minus Host and Connection. No limits, no
 *   timeouts, no guards, no metrics, no status: the least a proxy built on the two
 *   libraries ours uses can spend per request.
 * - `raw`: no HTTP library at all: `net` sockets on both sides, the request and
 *   response heads cut at `\r\n\r\n` and rewritten by hand, bodies framed by
 *   `Content-Length` only (no chunked encoding, no pipelining, no validation). What
 *   Node itself can do when the HTTP work is left out — and so what it would take
 *   (a hand-written HTTP/1.1 relay) to go beyond the minimal proxy.
 *
 * argv[2]: JSON `{ kind, ports }`. Prints `FLOOR READY <port>` once listening; exits on
 * SIGTERM or when stdin closes.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { Client, type Dispatcher } from 'undici';

interface FloorOptions {
  kind: 'minimal' | 'raw';
  ports: number[];
}

const options = JSON.parse(process.argv[2] ?? '{}') as FloorOptions;
const AGENT_PREFIX_LENGTH = '/agent/'.length;

/** The agent index and the path after it, from `/agent/{i}/{path}`. */
function route(target: string): { index: number; path: string } {
  const slash = target.indexOf('/', AGENT_PREFIX_LENGTH);
  return { index: Number(target.slice(AGENT_PREFIX_LENGTH, slash)), path: target.slice(slash) };
}

function minimalProxy(ports: readonly number[]) {
  // One pool of one-connection clients per agent, as our proxy keeps them.
  const idle: Client[][] = ports.map(() => []);
  const origins = ports.map((port) => `http://127.0.0.1:${port}`);
  class Relay implements Dispatcher.DispatchHandler {
    constructor(
      readonly response: import('node:http').ServerResponse,
      readonly index: number,
      readonly client: Client,
    ) {}
    onRequestStart(): void {}
    onResponseStart(
      _controller: Dispatcher.DispatchController,
      statusCode: number,
      headers: Record<string, string | string[] | undefined>,
    ): void {
      const list: string[] = [];
      for (const name in headers) {
        const value = headers[name];
        if (value === undefined || name === 'connection' || name === 'keep-alive') continue;
        if (typeof value === 'string') list.push(name, value);
        else for (const item of value) list.push(name, item);
      }
      this.response.writeHead(statusCode, list);
    }
    onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
      this.response.write(chunk);
    }
    onResponseEnd(): void {
      this.response.end();
      idle[this.index]?.push(this.client);
    }
    onResponseError(): void {
      this.response.destroy();
      void this.client.destroy();
    }
  }
  return createHttpServer((request: IncomingMessage, response) => {
    const { index, path } = route(request.url ?? '/');
    const headers: string[] = [];
    const raw = request.rawHeaders;
    for (let at = 0; at < raw.length; at += 2) {
      const name = (raw[at] as string).toLowerCase();
      if (name !== 'host' && name !== 'connection')
        headers.push(raw[at] as string, raw[at + 1] as string);
    }
    const client =
      idle[index]?.pop() ??
      new Client(origins[index] as string, { headersTimeout: 0, bodyTimeout: 0 });
    client.dispatch(
      { path, method: request.method as Dispatcher.HttpMethod, headers, body: request },
      new Relay(response, index, client),
    );
  });
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** A head cut at `\r\n\r\n`, its lines rewritten by `keep`, and its declared body length. */
function rewriteHead(
  head: string,
  firstLine: string,
  keep: (lowerName: string) => boolean,
  extra: string,
): { text: string; contentLength: number } {
  const lines = head.split('\r\n');
  let text = `${firstLine}\r\n${extra}`;
  let contentLength = 0;
  for (let at = 1; at < lines.length; at++) {
    const line = lines[at] as string;
    const name = line.slice(0, line.indexOf(':')).toLowerCase();
    if (name === 'content-length') contentLength = Number(line.slice(name.length + 1));
    if (keep(name)) text += `${line}\r\n`;
  }
  return { text: `${text}\r\n`, contentLength };
}

function rawRelay(ports: readonly number[]) {
  interface Upstream extends Socket {
    agent: number;
    client: Downstream | undefined;
    buffered: Buffer | undefined;
    remaining: number;
  }
  interface Downstream extends Socket {
    buffered: Buffer | undefined;
    upstream: Upstream | undefined;
  }
  const idle: Upstream[][] = ports.map(() => []);
  const hopByHop = (name: string) => name !== 'connection' && name !== 'keep-alive';

  function onUpstreamData(this: Upstream, chunk: Buffer): void {
    const client = this.client;
    if (client === undefined) return;
    if (this.remaining < 0) {
      // Still reading the response head.
      const data = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
      const end = data.indexOf(HEAD_END);
      if (end < 0) {
        this.buffered = data;
        return;
      }
      this.buffered = undefined;
      const head = data.toString('latin1', 0, end);
      const statusLine = head.slice(0, head.indexOf('\r\n'));
      const { text, contentLength } = rewriteHead(head, statusLine, hopByHop, '');
      const body = data.subarray(end + 4);
      this.remaining = contentLength - body.length;
      client.cork();
      client.write(text, 'latin1');
      if (body.length > 0) client.write(body);
      client.uncork();
    } else {
      this.remaining -= chunk.length;
      client.write(chunk);
    }
    if (this.remaining <= 0) {
      // The answer is complete: the connection goes back, the client may send again.
      this.remaining = -1;
      this.client = undefined;
      client.upstream = undefined;
      idle[this.agent]?.push(this);
      if (client.buffered !== undefined) onClientData.call(client, Buffer.alloc(0));
    }
  }

  function upstreamFor(agent: number): Upstream {
    const reused = idle[agent]?.pop();
    if (reused !== undefined) return reused;
    const socket = connect(ports[agent] as number, '127.0.0.1') as unknown as Upstream;
    socket.setNoDelay(true);
    Object.assign(socket, { agent, client: undefined, buffered: undefined, remaining: -1 });
    socket.on('data', onUpstreamData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      const list = idle[agent] ?? [];
      const at = list.indexOf(socket);
      if (at >= 0) list.splice(at, 1);
      socket.client?.destroy();
    });
    return socket;
  }

  function onClientData(this: Downstream, chunk: Buffer): void {
    const data = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
    this.buffered = data.length > 0 ? data : undefined;
    // One request at a time per connection (wrk waits for each answer).
    if (this.upstream !== undefined) return;
    const end = data.indexOf(HEAD_END);
    if (end < 0) return;
    const head = data.toString('latin1', 0, end);
    const requestLine = head.slice(0, head.indexOf('\r\n'));
    const [method, target] = requestLine.split(' ') as [string, string];
    const { index, path } = route(target);
    const port = ports[index] as number;
    const { text, contentLength } = rewriteHead(
      head,
      `${method} ${path} HTTP/1.1`,
      (name) => name !== 'host' && hopByHop(name),
      `host: 127.0.0.1:${port}\r\n`,
    );
    if (data.length < end + 4 + contentLength) return;
    const body = data.subarray(end + 4, end + 4 + contentLength);
    const rest = data.subarray(end + 4 + contentLength);
    this.buffered = rest.length > 0 ? rest : undefined;
    const upstream = upstreamFor(index);
    upstream.client = this;
    this.upstream = upstream;
    upstream.cork();
    upstream.write(text, 'latin1');
    if (body.length > 0) upstream.write(body);
    upstream.uncork();
  }

  return createNetServer({ noDelay: true }, (socket) => {
    const client = Object.assign(socket, {
      buffered: undefined,
      upstream: undefined,
    }) as Downstream;
    client.on('data', onClientData);
    client.on('error', () => client.destroy());
    client.on('close', () => {
      // A client gone mid-answer: its upstream connection cannot be reused.
      client.upstream?.destroy();
    });
  });
}

const server = options.kind === 'raw' ? rawRelay(options.ports) : minimalProxy(options.ports);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`FLOOR READY ${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
