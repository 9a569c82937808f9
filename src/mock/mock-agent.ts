/**
 * One simulated vLLM agent: an HTTP server with vLLM's OpenAI-compatible routes,
 * configurable latency and token rate, failure injection, and a record of what it
 * received so tests can assert on it. Longer than most files because the routes
 * share the streaming and failure machinery.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type AgentEndpoint, createEndpoint } from '../hostfile/agent-endpoint.js';
import { type MockAgentBehavior, resolveMockBehavior } from './mock-behavior.js';
import { defaultReply, embedText, estimateTokens, fitTokens, tokenize } from './mock-text.js';
import {
  contextOverflowMessage,
  created,
  errorBody,
  modelsBody,
  responseId,
  usage,
} from './vllm-shapes.js';

/** A request as the agent received it. */
export interface RecordedRequest {
  method: string;
  /** The request target exactly as sent (path and query, undecoded). */
  url: string;
  /** Header names as sent, alternating with values (`IncomingMessage.rawHeaders`). */
  rawHeaders: string[];
  /** Headers with lower-cased names. */
  headers: IncomingMessage['headers'];
  /** The whole request body as UTF-8 text. */
  body: string;
  /** Set when the client went away before the response ended. */
  aborted: boolean;
}

/** Counters of one agent. */
export interface MockAgentStats {
  requests: number;
  inFlight: number;
  peakInFlight: number;
  completed: number;
  aborted: number;
}

/** Counters shared by every agent of a swarm. */
export interface SharedInFlight {
  inFlight: number;
  peakInFlight: number;
}

/** Options of a {@link MockAgent}. */
export interface MockAgentOptions {
  index: number;
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  behavior: MockAgentBehavior;
  /** How many recent requests to keep in `requests`. @default 1000 */
  recordLimit?: number;
  shared?: SharedInFlight;
}

type Completion = {
  prompts: string[];
  maxTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
};

/** A simulated agent. Emits `request` and `abort` with the {@link RecordedRequest}. */
export class MockAgent extends EventEmitter {
  readonly index: number;
  readonly host: string;
  readonly stats: MockAgentStats = {
    requests: 0,
    inFlight: 0,
    peakInFlight: 0,
    completed: 0,
    aborted: 0,
  };
  /** The most recent requests, oldest first. */
  readonly requests: RecordedRequest[] = [];
  #port: number;
  #behavior: MockAgentBehavior;
  #recordLimit: number;
  #shared: SharedInFlight;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  // Responses the agent itself cut (injected failures): their close is not a client abort.
  #cutByAgent = new WeakSet<ServerResponse>();

  constructor(options: MockAgentOptions) {
    super();
    this.index = options.index;
    this.host = options.host;
    this.#port = options.port;
    this.#behavior = options.behavior;
    this.#recordLimit = options.recordLimit ?? 1000;
    this.#shared = options.shared ?? { inFlight: 0, peakInFlight: 0 };
  }

  /** The port the agent listens on (after `start()`). */
  get port(): number {
    return this.#port;
  }

  /** `http://host:port`. */
  get url(): string {
    return this.endpoint.url;
  }

  /** The agent as a hostfile endpoint. */
  get endpoint(): AgentEndpoint {
    return createEndpoint(this.host, this.#port, {});
  }

  /** Current behaviour (a copy). */
  get behavior(): MockAgentBehavior {
    return { ...this.#behavior };
  }

  /** Whether the agent is accepting connections. */
  get listening(): boolean {
    return this.#server?.listening ?? false;
  }

  /** Change part of the behaviour; applies to requests that arrive afterwards. */
  setBehavior(patch: Partial<MockAgentBehavior>): void {
    this.#behavior = resolveMockBehavior(this.#behavior, patch);
  }

  /** Resolves with the next request once its body has arrived. */
  nextRequest(): Promise<RecordedRequest> {
    return once(this, 'request').then(([request]) => request as RecordedRequest);
  }

  /** Resolves when the next request's client goes away before its response ended. */
  nextAbort(): Promise<RecordedRequest> {
    return once(this, 'abort').then(([request]) => request as RecordedRequest);
  }

  /** Start listening (again, on the same port after `stop()`). */
  async start(): Promise<void> {
    if (this.#server?.listening) return;
    const server = createServer({ keepAlive: true }, (request, response) =>
      this.#handle(request, response),
    );
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 70_000;
    server.requestTimeout = 0;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    server.listen({ host: this.host, port: this.#port });
    await once(server, 'listening');
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stop listening and cut every open connection: the port then refuses connections. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = once(server, 'close');
    server.close();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /** Reset the counters (but not the live in-flight count) and forget recorded requests. */
  resetStats(): void {
    const inFlight = this.stats.inFlight;
    Object.assign(this.stats, {
      requests: 0,
      inFlight,
      peakInFlight: inFlight,
      completed: 0,
      aborted: 0,
    });
    this.requests.length = 0;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const stats = this.stats;
    const shared = this.#shared;
    stats.requests++;
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    shared.inFlight++;
    shared.peakInFlight = Math.max(shared.peakInFlight, shared.inFlight);
    const chunks: Buffer[] = [];
    const record: RecordedRequest = {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      rawHeaders: request.rawHeaders,
      headers: request.headers,
      body: '',
      aborted: false,
    };
    response.on('close', () => {
      stats.inFlight--;
      shared.inFlight--;
      if (response.writableFinished || this.#cutByAgent.has(response)) {
        stats.completed++;
      } else {
        stats.aborted++;
        record.aborted = true;
        this.emit('abort', record);
      }
    });
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      record.body = Buffer.concat(chunks).toString('utf8');
      if (this.#recordLimit > 0) {
        this.requests.push(record);
        if (this.requests.length > this.#recordLimit) this.requests.shift();
      }
      this.emit('request', record);
      this.#respond(request, response, record);
    });
  }

  #respond(request: IncomingMessage, response: ServerResponse, record: RecordedRequest): void {
    const behavior = this.#behavior;
    const failing = behavior.failure !== 'none' && Math.random() < behavior.failureRate;
    if (failing && behavior.failure === 'drop') {
      this.#cut(response);
      return;
    }
    if (failing && behavior.failure === 'hang') return;
    const path = record.url.split('?', 1)[0] ?? '/';
    this.#after(response, behavior.latencyMs, () => {
      if (failing && behavior.failure === 'status') {
        sendJson(
          response,
          behavior.failureStatus,
          errorBody(behavior.failureStatus, `injected failure on agent ${this.index}`),
        );
      } else if (failing && behavior.failure === 'malformed') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"id": "cmpl-broken", "choices": [');
      } else {
        this.#route(
          request.method ?? 'GET',
          path,
          record,
          response,
          failing ? behavior.failure : 'none',
        );
      }
    });
  }

  #route(
    method: string,
    path: string,
    record: RecordedRequest,
    response: ServerResponse,
    failure: string,
  ): void {
    const routes: Record<string, string> = {
      '/health': 'GET',
      '/v1/models': 'GET',
      '/v1/chat/completions': 'POST',
      '/v1/completions': 'POST',
      '/v1/embeddings': 'POST',
      '/generate': 'POST',
    };
    const allowed = routes[path];
    if (allowed === undefined) {
      sendJson(response, 404, '{"detail":"Not Found"}');
      return;
    }
    if (method !== allowed) {
      sendJson(response, 405, '{"detail":"Method Not Allowed"}');
      return;
    }
    const behavior = this.#behavior;
    if (path === '/health') {
      response.writeHead(200, { 'content-length': '0' });
      response.end();
      return;
    }
    if (path === '/v1/models') {
      sendJson(response, 200, modelsBody(behavior.model, behavior.maxModelLen));
      return;
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(record.body);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      sendJson(response, 400, errorBody(400, 'Request body is not a valid JSON object'));
      return;
    }
    if (path !== '/generate' && behavior.strictModel && body.model !== behavior.model) {
      sendJson(
        response,
        404,
        errorBody(404, `The model \`${String(body.model)}\` does not exist.`),
      );
      return;
    }
    if (path === '/v1/embeddings') {
      this.#embeddings(body, response);
      return;
    }
    const completion = parseCompletion(path, body);
    if (typeof completion === 'string') {
      sendJson(response, 400, errorBody(400, completion));
      return;
    }
    for (const prompt of completion.prompts) {
      const promptTokens = estimateTokens(prompt);
      const requested = completion.maxTokens ?? 16;
      if (promptTokens + requested > behavior.maxModelLen) {
        sendJson(
          response,
          400,
          errorBody(400, contextOverflowMessage(behavior.maxModelLen, promptTokens, requested)),
        );
        return;
      }
    }
    this.#generate(path, completion, response, failure);
  }

  #generate(path: string, completion: Completion, response: ServerResponse, failure: string): void {
    const behavior = this.#behavior;
    const answers = completion.prompts.map((prompt) => {
      const text = behavior.reply
        ? behavior.reply(prompt, this.index)
        : defaultReply(prompt, this.index, behavior.model);
      let tokens = fitTokens(tokenize(text), behavior.completionTokens);
      let finishReason = 'stop';
      if (completion.maxTokens !== undefined && tokens.length > completion.maxTokens) {
        tokens = tokens.slice(0, completion.maxTokens);
        finishReason = 'length';
      }
      return { prompt, tokens, finishReason };
    });
    const chat = path === '/v1/chat/completions';
    const id = responseId(chat ? 'chatcmpl' : 'cmpl');
    const model = behavior.model;
    const totalTokens = Math.max(0, ...answers.map((answer) => answer.tokens.length));
    const promptTokens = answers.reduce((sum, answer) => sum + estimateTokens(answer.prompt), 0);
    const completionTokens = answers.reduce((sum, answer) => sum + answer.tokens.length, 0);

    if (!completion.stream) {
      if (failure === 'hang-body' || failure === 'die-mid-stream') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"id":"');
        if (failure === 'die-mid-stream') this.#cut(response);
        return;
      }
      this.#after(response, behavior.tokenIntervalMs * totalTokens, () => {
        let body: unknown;
        if (path === '/generate') {
          const text = answers[0]?.tokens.join('') ?? '';
          body = { response: text, text };
        } else {
          const choices = answers.map((answer, index) => {
            const text = answer.tokens.join('');
            return chat
              ? {
                  index,
                  message: {
                    role: 'assistant',
                    content: text,
                    reasoning_content: null,
                    tool_calls: [],
                  },
                  logprobs: null,
                  finish_reason: answer.finishReason,
                  stop_reason: null,
                }
              : {
                  index,
                  text,
                  logprobs: null,
                  finish_reason: answer.finishReason,
                  stop_reason: null,
                };
          });
          body = {
            id,
            object: chat ? 'chat.completion' : 'text_completion',
            created: created(),
            model,
            choices,
            usage: usage(promptTokens, completionTokens),
          };
        }
        sendJson(response, 200, JSON.stringify(body));
      });
      return;
    }

    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.flushHeaders();
    if (failure === 'hang-body') return;
    const timestamp = created();
    const chunk = (index: number, token: string | undefined, finishReason: string | null) => {
      const choice = chat
        ? {
            index,
            delta: token === undefined ? { role: 'assistant', content: '' } : { content: token },
            logprobs: null,
            finish_reason: finishReason,
          }
        : {
            index,
            text: token ?? '',
            logprobs: null,
            finish_reason: finishReason,
            stop_reason: null,
          };
      return `data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: timestamp, model, choices: [choice] })}\n\n`;
    };
    if (chat) response.write(chunk(0, undefined, null));
    let step = 0;
    const next = () => {
      if (failure === 'die-mid-stream' && step >= Math.min(2, totalTokens)) {
        this.#cut(response);
        return;
      }
      if (step < totalTokens) {
        let text = '';
        answers.forEach((answer, index) => {
          const token = answer.tokens[step];
          if (token !== undefined) text += chunk(index, token, null);
        });
        response.write(text);
        step++;
        this.#after(response, behavior.tokenIntervalMs, next);
        return;
      }
      let tail = answers.map((answer, index) => chunk(index, '', answer.finishReason)).join('');
      if (completion.includeUsage) {
        tail += `data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: timestamp, model, choices: [], usage: usage(promptTokens, completionTokens) })}\n\n`;
      }
      response.end(`${tail}data: [DONE]\n\n`);
    };
    next();
  }

  #embeddings(body: Record<string, unknown>, response: ServerResponse): void {
    const input = body.input;
    const texts = typeof input === 'string' ? [input] : input;
    if (
      !Array.isArray(texts) ||
      texts.length === 0 ||
      !texts.every((text) => typeof text === 'string')
    ) {
      sendJson(
        response,
        400,
        errorBody(400, '`input` must be a string or a non-empty list of strings'),
      );
      return;
    }
    const dimensions = this.#behavior.embeddingDimensions;
    const data = (texts as string[]).map((text, index) => ({
      object: 'embedding',
      index,
      embedding: embedText(text, dimensions),
    }));
    const promptTokens = (texts as string[]).reduce((sum, text) => sum + estimateTokens(text), 0);
    sendJson(
      response,
      200,
      JSON.stringify({
        id: responseId('embd'),
        object: 'list',
        created: created(),
        model: this.#behavior.model,
        data,
        usage: usage(promptTokens, 0),
      }),
    );
  }

  #cut(response: ServerResponse): void {
    this.#cutByAgent.add(response);
    response.socket?.destroy();
  }

  /** Run `callback` after `delayMs`, unless the client has gone away by then. */
  #after(response: ServerResponse, delayMs: number, callback: () => void): void {
    if (delayMs <= 0) {
      callback();
      return;
    }
    const timer = setTimeout(() => {
      response.off('close', cancel);
      if (!response.destroyed) callback();
    }, delayMs);
    const cancel = () => clearTimeout(timer);
    response.once('close', cancel);
  }
}

function sendJson(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

function parseCompletion(path: string, body: Record<string, unknown>): Completion | string {
  const maxTokens = body.max_tokens ?? body.max_completion_tokens;
  if (
    maxTokens !== undefined &&
    maxTokens !== null &&
    (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)
  ) {
    return `max_tokens must be at least 1, got ${JSON.stringify(maxTokens)}.`;
  }
  const stream = body.stream === true;
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  const base = {
    maxTokens: (maxTokens ?? undefined) as number | undefined,
    stream,
    includeUsage: streamOptions?.include_usage === true,
  };
  if (path === '/v1/chat/completions') {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0)
      return '`messages` must be a non-empty list';
    const last = messages[messages.length - 1] as { content?: unknown } | undefined;
    return { ...base, prompts: [messageText(last?.content)] };
  }
  const prompt = body.prompt;
  if (typeof prompt === 'string') return { ...base, prompts: [prompt] };
  if (
    path === '/v1/completions' &&
    Array.isArray(prompt) &&
    prompt.length > 0 &&
    prompt.every((item) => typeof item === 'string')
  ) {
    return { ...base, prompts: prompt as string[] };
  }
  return path === '/generate'
    ? '`prompt` must be a string'
    : '`prompt` must be a string or a non-empty list of strings';
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
          ? (part as { text: string }).text
          : '',
      )
      .join('');
  }
  return '';
}
