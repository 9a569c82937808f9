/**
 * Helpers for pool tests: tiny HTTP servers with scripted answers, and a small
 * forwarding proxy that maps `/agent/{index}/...` to real ports (so a hostfile can
 * name hosts that do not resolve, as on a laptop).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a test server saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A running test server. */
export interface TestServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Start a server answering each request with `answer(request)` → `[status, body, headers?]`. */
export async function startScriptedServer(
  answer: (
    request: SeenRequest,
  ) =>
    | [number, string, Record<string, string>?]
    | Promise<[number, string, Record<string, string>?]>,
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer(async (incoming, response) => {
    const seen = await readRequest(incoming);
    requests.push(seen);
    const [status, body, headers = {}] = await answer(seen);
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  });
  return listen(server, requests);
}

/**
 * A forwarding proxy for tests: `/agent/{i}/rest` → `http://127.0.0.1:{ports[i]}/rest`.
 * Answers 502 `{"error":"cannot connect to host:port"}` like the real proxy when the
 * target refuses. Records what it received (headers included).
 */
export async function startForwardingProxy(
  targets: readonly { host: string; port: number; realPort: number }[],
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer(async (incoming, response: ServerResponse) => {
    const seen = await readRequest(incoming);
    requests.push(seen);
    const match = /^\/agent\/(\d+)(\/.*)$/.exec(seen.url);
    const target = match ? targets[Number(match[1])] : undefined;
    if (!match || !target) {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `bad agent path ${seen.url}` }));
      return;
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target.realPort,
        method: seen.method,
        path: match[2],
        headers: { 'content-type': 'application/json' },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `cannot connect to ${target.host}:${target.port}` }));
    });
    response.on('close', () => upstream.destroy());
    upstream.end(seen.body);
  });
  return listen(server, requests);
}

async function readRequest(incoming: IncomingMessage): Promise<SeenRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return {
    method: incoming.method ?? 'GET',
    url: incoming.url ?? '/',
    headers: incoming.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

async function listen(
  server: ReturnType<typeof createServer>,
  requests: SeenRequest[],
): Promise<TestServer> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

/** A chat completion body with the given message fields. */
export function chatCompletionBody(message: Record<string, unknown>): string {
  return JSON.stringify({
    id: 'chatcmpl-test',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
  });
}

/** `/v1/models` body for one model. */
export function modelsBody(model: string, maxModelLen: number): string {
  return JSON.stringify({
    object: 'list',
    data: [{ id: model, object: 'model', max_model_len: maxModelLen }],
  });
}
