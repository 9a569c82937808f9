/**
 * The routes a simulated agent serves: one table that the agent, its tests and
 * docs/mock-agents.md read. `follows` names the vLLM file each route answers like.
 */
import type { MockExchange } from './mock-exchange.js';
import { serveChat } from './vllm-chat.js';
import { serveCompletions, serveGenerate } from './vllm-completions.js';
import { serveEmbeddings } from './vllm-embeddings.js';
import { modelsBody } from './vllm-models.js';
import { serveHealth, serveLoad, serveVersion } from './vllm-server-info.js';
import { serveDetokenize, serveTokenize } from './vllm-tokenize.js';

/** One route. */
export interface MockRoute {
  readonly methods: readonly ('GET' | 'POST')[];
  /** Whether the body must be a JSON object. */
  readonly json: boolean;
  /** Whether it must also be sent as `application/json` (vLLM's `validate_json_request`). */
  readonly checksMediaType: boolean;
  /** Whether a `model` field must name a served model (vLLM's `_check_model`). */
  readonly checksModel: boolean;
  /** Generation routes: where `stream-error` and `malformed` apply to streams. */
  readonly generates: boolean;
  /** The vLLM source the route follows (docs/mock-agents.md). */
  readonly follows: string;
  serve(exchange: MockExchange, body: Record<string, unknown>): void;
}

const plain = {
  json: false,
  checksMediaType: false,
  checksModel: false,
  generates: false,
} as const;
const model = { json: true, checksMediaType: true, checksModel: true, generates: false } as const;

/** Path → route. Anything else is FastAPI's 404 `{"detail": "Not Found"}`. */
export const MOCK_ROUTES: Readonly<Record<string, MockRoute>> = {
  '/health': { ...plain, methods: ['GET'], follows: 'api_server.py', serve: serveHealth },
  '/ping': { ...plain, methods: ['GET', 'POST'], follows: 'api_server.py', serve: serveHealth },
  '/version': { ...plain, methods: ['GET'], follows: 'api_server.py', serve: serveVersion },
  '/load': { ...plain, methods: ['GET'], follows: 'api_server.py', serve: serveLoad },
  '/metrics': {
    ...plain,
    methods: ['GET'],
    follows: 'v1/metrics/loggers.py',
    serve: (exchange) => exchange.metrics.serve(exchange),
  },
  '/v1/models': {
    ...plain,
    methods: ['GET'],
    follows: 'openai/models/serving.py',
    serve: (exchange) => exchange.json(modelsBody(exchange.behavior)),
  },
  '/v1/chat/completions': {
    ...model,
    generates: true,
    methods: ['POST'],
    follows: 'openai/chat_completion/protocol.py, serving.py',
    serve: serveChat,
  },
  '/v1/completions': {
    ...model,
    generates: true,
    methods: ['POST'],
    follows: 'openai/completion/protocol.py, serving.py',
    serve: serveCompletions,
  },
  '/v1/embeddings': {
    ...model,
    methods: ['POST'],
    follows: 'pooling/embed/protocol.py, api_router.py',
    serve: serveEmbeddings,
  },
  '/tokenize': {
    ...model,
    methods: ['POST'],
    follows: 'serve/tokenize/protocol.py',
    serve: serveTokenize,
  },
  '/detokenize': {
    ...model,
    methods: ['POST'],
    follows: 'serve/tokenize/protocol.py',
    serve: serveDetokenize,
  },
  '/generate': {
    json: true,
    checksMediaType: false,
    checksModel: false,
    generates: true,
    methods: ['POST'],
    follows: "the AgentPool's protocol (not vLLM)",
    serve: serveGenerate,
  },
};
