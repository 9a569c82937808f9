/**
 * One simulated vLLM agent: an HTTP server with vLLM's routes (the table in
 * vllm-routes.ts, one file per surface), configurable latency and token rate, failure
 * injection, and a record of what it received so tests can assert on it.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type AgentEndpoint, createEndpoint } from '../hostfile/agent-endpoint.js';
import { GenerationSlots } from './generation-slots.js';
import { type MockAgentBehavior, type MockFailure, resolveMockBehavior } from './mock-behavior.js';
import type { MockExchange, ServingCounters } from './mock-exchange.js';
import {
  sendError,
  sendJson,
  sendMethodNotAllowed,
  sendNotFoundRoute,
  type VllmError,
  vllmError,
} from './vllm-errors.js';
import { AgentMetrics } from './vllm-metrics.js';
import { checkModel } from './vllm-models.js';
import { MOCK_ROUTES } from './vllm-routes.js';

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
export interface SimulatedAgentStats {
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

/** Options of a {@link SimulatedAgent}. */
export interface SimulatedAgentOptions {
  index: number;
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  behavior: MockAgentBehavior;
  /** How many recent requests to keep in `requests`. @default 1000 */
  recordLimit?: number;
  shared?: SharedInFlight;
}

/**
 * A simulated vLLM agent (named so as not to be confused with undici's `MockAgent`).
 * Emits `request` and `abort` with the {@link RecordedRequest}.
 */
export class SimulatedAgent extends EventEmitter {
  readonly index: number;
  readonly host: string;
  readonly stats: SimulatedAgentStats = {
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
  readonly #slots: GenerationSlots;
  readonly #counters: ServingCounters = {
    promptTokens: 0,
    generationTokens: 0,
    finished: new Map(),
  };
  readonly #metrics: AgentMetrics;

  constructor(options: SimulatedAgentOptions) {
    super();
    this.index = options.index;
    this.host = options.host;
    this.#port = options.port;
    this.#behavior = options.behavior;
    this.#recordLimit = options.recordLimit ?? 1000;
    this.#shared = options.shared ?? { inFlight: 0, peakInFlight: 0 };
    this.#slots = new GenerationSlots(this.#behavior.maxNumSeqs);
    this.#metrics = new AgentMetrics(this.#slots, this.#counters, () => this.#behavior);
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
    this.#slots.limit = this.#behavior.maxNumSeqs;
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
    const exchange = this.#exchange(response, record.body, failing ? behavior.failure : 'none');
    this.#after(response, behavior.latencyMs, () => {
      if (failing && behavior.failure === 'status') {
        exchange.fail(vllmError(behavior.failureStatus, `injected failure on agent ${this.index}`));
        return;
      }
      if (failing && behavior.failure === 'malformed') {
        sendMalformed(response, record.body);
        return;
      }
      this.#route(request.method ?? 'GET', path, exchange);
    });
  }

  #exchange(response: ServerResponse, bodyText: string, failure: MockFailure): MockExchange {
    const behavior = this.#behavior;
    return {
      agentIndex: this.index,
      behavior,
      response,
      bodyText,
      failure,
      slots: this.#slots,
      counters: this.#counters,
      metrics: this.#metrics,
      after: (delayMs, callback) => this.#after(response, delayMs, callback),
      cut: () => this.#cut(response),
      fail: (error) => sendError(response, error, behavior.vllmVersion),
      json: (body) => sendJson(response, 200, body),
    };
  }

  #route(method: string, path: string, exchange: MockExchange): void {
    const route = Object.hasOwn(MOCK_ROUTES, path) ? MOCK_ROUTES[path] : undefined;
    if (route === undefined) {
      sendNotFoundRoute(exchange.response);
      return;
    }
    if (!route.methods.includes(method as 'GET' | 'POST')) {
      sendMethodNotAllowed(exchange.response);
      return;
    }
    // Injected stream errors only concern generations; other routes answer normally.
    const served =
      exchange.failure === 'stream-error' && !route.generates
        ? { ...exchange, failure: 'none' as const }
        : exchange;
    if (!route.json) {
      route.serve(served, {});
      return;
    }
    const parsed = parseJsonBody(exchange.response.req, exchange.bodyText, route.checksMediaType);
    if (!parsed.ok) {
      exchange.fail(parsed.error);
      return;
    }
    const body = parsed.body;
    if (route.checksModel) {
      const wrongModel = checkModel(exchange.behavior, body.model);
      if (wrongModel) {
        exchange.fail(wrongModel);
        return;
      }
    }
    route.serve(served, body);
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

/**
 * vLLM's `validate_json_request` and FastAPI's body parsing: a JSON object sent as
 * `application/json`, else 400 (the wording of the JSON error is the simulation's).
 */
function parseJsonBody(
  request: IncomingMessage,
  bodyText: string,
  checksMediaType: boolean,
): { ok: true; body: Record<string, unknown> } | { ok: false; error: VllmError } {
  const mediaType = (request.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (checksMediaType && mediaType !== 'application/json') {
    return {
      ok: false,
      error: vllmError(400, "Unsupported Media Type: Only 'application/json' is allowed"),
    };
  }
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return { ok: true, body: parsed as Record<string, unknown> };
    }
  } catch {
    // Answered below.
  }
  return { ok: false, error: vllmError(400, 'Request body is not a valid JSON object') };
}

/** 200 with a body that does not parse: a JSON fragment, or for a stream a broken event. */
function sendMalformed(response: ServerResponse, bodyText: string): void {
  if (/"stream"\s*:\s*true/.test(bodyText)) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.end('data: {"id": "cmpl-broken", "choices": [\n\n');
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end('{"id": "cmpl-broken", "choices": [');
}
