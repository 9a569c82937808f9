/**
 * vLLM's error answers, in the shape of the vLLM the agent plays.
 *
 * Shapes (docs/mock-agents.md has the table):
 * - current (vLLM ≥ 0.10.1, PR #22099): `{"error": {"message", "type", "param", "code"}}` —
 *   `ErrorInfo` / `ErrorResponse` in vllm/entrypoints/openai/engine/protocol.py, built by
 *   `OpenAIServing.create_error_response` in vllm/entrypoints/openai/engine/serving.py.
 *   A `VLLMValidationError` (vllm/exceptions.py) appends `(parameter=…, value=…)` to its
 *   message and fills `param`.
 * - legacy (vLLM ≤ 0.10.0): `{"object": "error", "message", "type", "param", "code"}` —
 *   `ErrorResponse` in vllm/entrypoints/openai/protocol.py of v0.10.0.
 * - unknown routes and methods: FastAPI's own `{"detail": "Not Found"}` in both.
 */
import type { ServerResponse } from 'node:http';
import type { VllmDialect } from './mock-behavior.js';

/** One error an agent answers with. */
export interface VllmError {
  status: number;
  /** `BadRequestError`, `NotFoundError`, … */
  type: string;
  message: string;
  /** The request field at fault (`model`, `input_tokens`, …), or null. */
  param: string | null;
  /** Raised as vLLM's `VLLMValidationError`, whose message ends in `(parameter=…, value=…)`. */
  validation?: boolean;
  /** Value that `VLLMValidationError` quotes after the parameter, when it has one. */
  value?: number | string;
}

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  429: 'RateLimitError',
  501: 'NotImplementedError',
  503: 'ServiceUnavailableError',
};

/** An error with vLLM's type name for its status (`InternalServerError` for unlisted ones). */
export function vllmError(status: number, message: string, param: string | null = null): VllmError {
  return { status, type: ERROR_TYPES[status] ?? 'InternalServerError', message, param };
}

/** A `VLLMValidationError` (vllm/exceptions.py): 400, `param` set, the message suffixed. */
export function validationError(
  message: string,
  param: string,
  value?: number | string,
): VllmError {
  const error: VllmError = { ...vllmError(400, message, param), validation: true };
  if (value !== undefined) error.value = value;
  return error;
}

/**
 * The message as the dialect prints it: current vLLM's `VLLMValidationError.__str__`
 * appends `(parameter=…, value=…)`; legacy vLLM raised a plain `ValueError`.
 */
export function errorMessage(error: VllmError, dialect: VllmDialect): string {
  if (dialect === 'legacy' || error.validation !== true) return error.message;
  const extras = [`parameter=${error.param}`];
  if (error.value !== undefined) extras.push(`value=${error.value}`);
  return `${error.message} (${extras.join(', ')})`;
}

/** The JSON body of `error` in the dialect's shape. */
export function errorBody(error: VllmError, dialect: VllmDialect): Record<string, unknown> {
  const info = {
    message: errorMessage(error, dialect),
    type: error.type,
    param: dialect === 'legacy' ? null : error.param,
    code: error.status,
  };
  return dialect === 'legacy' ? { object: 'error', ...info } : { error: info };
}

/** Answer `error` as JSON with its status. */
export function sendError(response: ServerResponse, error: VllmError, dialect: VllmDialect): void {
  sendJson(response, error.status, JSON.stringify(errorBody(error, dialect)));
}

/** FastAPI's answer to a path no route serves (both dialects). */
export function sendNotFoundRoute(response: ServerResponse): void {
  sendJson(response, 404, '{"detail":"Not Found"}');
}

/** FastAPI's answer to a method the route does not take (both dialects). */
export function sendMethodNotAllowed(response: ServerResponse): void {
  sendJson(response, 405, '{"detail":"Method Not Allowed"}');
}

/** Send a JSON text with its length. */
export function sendJson(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * `The model \`x\` does not exist.` — 404, `param: "model"`
 * (`OpenAIServing._check_model`, vllm/entrypoints/openai/engine/serving.py; legacy:
 * serving_engine.py of v0.10.0, where `param` was not set).
 */
export function modelNotFound(model: unknown): VllmError {
  return vllmError(404, `The model \`${String(model)}\` does not exist.`, 'model');
}

/**
 * A prompt that, with the output it asks for, does not fit the context.
 *
 * - current: `TokenizeParams._token_len_check` in vllm/renderers/params.py ("You passed …
 *   resulting in a maximum input length of …", `param: "input_tokens"`); a prompt of the
 *   whole context with no room for one token is refused by the engine's input processor
 *   (vllm/v1/engine/input_processor.py) with the decoder-prompt wording.
 * - legacy: `OpenAIServing._validate_input` in serving_engine.py of v0.10.0.
 */
export function contextOverflow(
  dialect: VllmDialect,
  maxModelLen: number,
  promptTokens: number,
  /** `max_tokens` as asked, or undefined when the request named none. */
  maxTokens: number | undefined,
): VllmError {
  if (dialect === 'legacy') {
    if (maxTokens === undefined) {
      return vllmError(
        400,
        `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens} tokens in the messages, Please reduce the length of the messages.`,
      );
    }
    return vllmError(
      400,
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${
        promptTokens + maxTokens
      } tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
    );
  }
  const output = maxTokens ?? 0;
  if (maxTokens === undefined && promptTokens === maxModelLen) {
    return vllmError(
      400,
      `The decoder prompt (length ${promptTokens}) plus the number of requested output tokens (at least 1) is longer than the maximum model length of ${maxModelLen}. Make sure that \`max_model_len\` is no smaller than the number of text tokens (prompt + requested output tokens).`,
    );
  }
  return validationError(
    `You passed ${promptTokens} input tokens and requested ${output} output tokens. However, the model's context length is only ${maxModelLen} tokens, resulting in a maximum input length of ${
      maxModelLen - output
    } tokens. Please reduce the length of the input prompt.`,
    'input_tokens',
    promptTokens,
  );
}

/**
 * `max_tokens` larger than the whole context (current: `TokenizeParams.__post_init__`,
 * vllm/renderers/params.py; legacy: the overflow wording of `_validate_input`).
 */
export function maxTokensTooLarge(
  dialect: VllmDialect,
  maxModelLen: number,
  promptTokens: number,
  maxTokens: number,
): VllmError {
  if (dialect === 'legacy') return contextOverflow(dialect, maxModelLen, promptTokens, maxTokens);
  return validationError(
    `max_tokens=${maxTokens} cannot be greater than max_model_len=max_total_tokens=${maxModelLen}. Please request fewer output tokens.`,
    'max_tokens',
    maxTokens,
  );
}

/**
 * An embedding input longer than the context (`OpenAIServing._validate_input`,
 * vllm/entrypoints/openai/engine/serving.py; the same words in v0.10.0 without the
 * parameter suffix).
 */
export function embeddingInputTooLong(maxModelLen: number, promptTokens: number): VllmError {
  return validationError(
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens} tokens in the input for embedding generation. Please reduce the length of the input.`,
    'input_tokens',
    promptTokens,
  );
}

/** A route the served model's task does not offer (vllm/entrypoints/…/api_router.py: `The model does not support … API`). */
export function unsupportedApi(api: 'Chat Completions' | 'Completions' | 'Embeddings'): VllmError {
  return vllmError(400, `The model does not support ${api} API`);
}
