/**
 * Entry point of the child process that runs a benchmark's *static streaming agents*:
 * for the streams benchmark what the nginx static agents are for the throughput one —
 * agents cheap enough not to be the limit. Each port answers any POST with a chat
 * completion stream shaped as vLLM's (`text/event-stream`, chunked; `max_tokens` tokens,
 * default `tokens`: a role chunk with token 0, token k at k × interval after the request, then a finish chunk and
 * `data: [DONE]`, as vllm/entrypoints/openai/serving_chat.py emits them), written from
 * prebuilt buffers on raw `net` sockets; any other request gets `200 {}` (the proxy's
 * health probes). The simulated agents of src/mock, a model of vLLM, build every chunk
 * as JSON through node:http: at 8,000 streams on one core they were the limit (direct
 * lateness p99 3.3 s).
 *
 * argv[2]: JSON `{ count, tokens, intervalMs }`. Prints `SSE READY {"ports":[...]}`; exits
 * on SIGTERM or when stdin closes.
 */
import { createServer, type Socket } from 'node:net';

interface SseAgentsOptions {
  count: number;
  tokens: number;
  intervalMs: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as SseAgentsOptions;
const HEAD_END = Buffer.from('\r\n\r\n');
const STREAM_HEAD = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n',
);
const EMPTY_ANSWER = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
);

/** One HTTP chunk holding `text`. */
function chunk(text: string): Buffer {
  return Buffer.from(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
}

function event(delta: Record<string, string>, finishReason: string | null): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'mock-model',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  })}\n\n`;
}

const FIRST = chunk(
  event({ role: 'assistant', content: '' }, null) + event({ content: 'tok0' }, null),
);
const TOKEN: Buffer[] = [];
function token(index: number): Buffer {
  for (let next = TOKEN.length; next <= index; next++) {
    TOKEN.push(chunk(event({ content: ` tok${next}` }, null)));
  }
  return TOKEN[index] as Buffer;
}
const MAX_TOKENS = 100_000;
const LAST = Buffer.concat([
  chunk(event({}, 'stop')),
  chunk('data: [DONE]\n\n'),
  Buffer.from('0\r\n\r\n'),
]);

interface Connection extends Socket {
  buffered: Buffer | undefined;
  streaming: NodeJS.Timeout | undefined;
}

function stream(socket: Connection, tokens: number): void {
  const startedAt = performance.now();
  // Token 0 goes with the role chunk; token k is due at k × interval, the end after the last.
  let sent = 1;
  const due = () => Math.max(0, startedAt + sent * options.intervalMs - performance.now());
  const send = () => {
    if (socket.destroyed) return;
    if (sent < tokens) {
      socket.write(token(sent));
      sent++;
      socket.streaming = setTimeout(send, due());
      return;
    }
    socket.write(LAST);
    socket.streaming = undefined;
    // The connection may carry the next request.
    if (socket.buffered !== undefined) onData.call(socket, Buffer.alloc(0));
  };
  socket.write(Buffer.concat([STREAM_HEAD, FIRST]));
  socket.streaming = setTimeout(send, due());
}

function onData(this: Connection, data: Buffer): void {
  const all = this.buffered === undefined ? data : Buffer.concat([this.buffered, data]);
  this.buffered = all.length > 0 ? all : undefined;
  if (this.streaming !== undefined) return;
  const end = all.indexOf(HEAD_END);
  if (end < 0) return;
  const head = all.toString('latin1', 0, end);
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const length = match ? Number(match[1]) : 0;
  if (all.length < end + 4 + length) return;
  const rest = all.subarray(end + 4 + length);
  this.buffered = rest.length > 0 ? rest : undefined;
  if (head.startsWith('POST ')) {
    const asked = /"max_tokens"\s*:\s*(\d+)/.exec(all.toString('utf8', end + 4, end + 4 + length));
    stream(this, Math.min(MAX_TOKENS, Math.max(1, Number(asked?.[1] ?? options.tokens))));
  } else this.write(EMPTY_ANSWER);
}

const ports: number[] = [];
for (let index = 0; index < options.count; index++) {
  const server = createServer({ noDelay: true }, (socket) => {
    const connection = Object.assign(socket, { buffered: undefined, streaming: undefined });
    connection.on('data', onData);
    connection.on('error', () => connection.destroy());
    connection.on('close', () => clearTimeout(connection.streaming));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  ports.push(typeof address === 'object' && address !== null ? address.port : 0);
}
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
process.stdout.write(`SSE READY ${JSON.stringify({ ports })}\n`);
