/**
 * `POST /v1/completions` (and the AgentPool's `POST /generate`, which is not vLLM's).
 *
 * Follows `CompletionRequest` (`max_tokens` defaults to 16; `prompt` a string, a list of
 * strings, a list of token ids or a list of id lists) and the response classes of
 * vllm/entrypoints/openai/completion/protocol.py (v0.10.0: protocol.py), and
 * completion/serving.py (serving_completion.py in v0.10.0): with a prompt list and `n`,
 * choice `index` = prompt position × n + j.
 */
import {
  breakWholeAnswer,
  checkContext,
  GENERATION_ERROR,
  type GenerationFormat,
  type GenerationRequest,
  parseSampling,
  planChoices,
  serveGeneration,
} from './generation.js';
import type { MockExchange } from './mock-exchange.js';
import { countTokens, decodeTokens } from './mock-tokens.js';
import { unsupportedApi, type VllmError, vllmError } from './vllm-errors.js';

/** vLLM's default `max_tokens` for `/v1/completions`. */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

const COMPLETIONS_FORMAT: GenerationFormat = {
  idPrefix: 'cmpl',
  object: 'text_completion',
  chunkObject: 'text_completion',
  extraFields: { kv_transfer_params: null },
  choice: (choice) => ({
    index: choice.index,
    text: choice.content.join(''),
    logprobs: null,
    finish_reason: choice.finishReason,
    stop_reason: choice.stopReason,
    prompt_logprobs: null,
  }),
  deltaChoice: (choice, piece, last) => ({
    index: choice.index,
    text: piece.text,
    logprobs: null,
    finish_reason: last ? choice.finishReason : null,
    stop_reason: last ? choice.stopReason : null,
  }),
};

/** Answer a completions request (`body` already a JSON object, model checked). */
export function serveCompletions(exchange: MockExchange, body: Record<string, unknown>): void {
  if (exchange.behavior.task === 'embed') {
    exchange.fail(unsupportedApi('Completions'));
    return;
  }
  const prompts = parsePrompts(body.prompt, 'prompt');
  if (!Array.isArray(prompts)) {
    exchange.fail(prompts);
    return;
  }
  const maxTokens =
    'max_tokens' in body ? (body.max_tokens ?? undefined) : COMPLETIONS_DEFAULT_MAX_TOKENS;
  generate(exchange, body, prompts, maxTokens);
}

/** `POST /generate`: `{"prompt"}` → `{"response", "text"}` (the AgentPool's protocol). */
export function serveGenerate(exchange: MockExchange, body: Record<string, unknown>): void {
  if (typeof body.prompt !== 'string') {
    exchange.fail(vllmError(400, '`prompt` must be a string'));
    return;
  }
  const prompt = body.prompt;
  const request: GenerationRequest = {
    prompts: [{ text: prompt, tokens: countTokens(prompt) }],
    n: 1,
    maxTokens: undefined,
    stop: [],
    stream: false,
    includeUsage: false,
    continuousUsage: false,
    reasoning: false,
  };
  const room = checkContext(exchange.behavior, request);
  if (!Array.isArray(room)) {
    exchange.fail(room);
    return;
  }
  const [choice] = planChoices(exchange, request, room);
  exchange.slots.enter(exchange.response, (release) => {
    if (breakWholeAnswer(exchange)) return;
    const tokens = choice?.content ?? [];
    exchange.after(exchange.behavior.tokenIntervalMs * tokens.length, () => {
      release();
      if (exchange.failure === 'stream-error') {
        exchange.fail(GENERATION_ERROR);
        return;
      }
      const text = tokens.join('');
      exchange.json(JSON.stringify({ response: text, text }));
    });
  });
}

function generate(
  exchange: MockExchange,
  body: Record<string, unknown>,
  prompts: string[],
  maxTokens: unknown,
): void {
  const sampling = parseSampling(body, maxTokens);
  if ('status' in sampling) {
    exchange.fail(sampling);
    return;
  }
  const request: GenerationRequest = {
    ...sampling,
    prompts: prompts.map((text) => ({ text, tokens: countTokens(text) })),
    reasoning: false,
  };
  const room = checkContext(exchange.behavior, request);
  if (!Array.isArray(room)) {
    exchange.fail(room);
    return;
  }
  serveGeneration(exchange, request, planChoices(exchange, request, room), COMPLETIONS_FORMAT);
}

/** `prompt` (or embeddings' `input`) as texts: a string, strings, token ids, or lists of token ids. */
export function parsePrompts(prompt: unknown, field: 'prompt' | 'input'): string[] | VllmError {
  if (typeof prompt === 'string') return [prompt];
  const invalid = vllmError(
    400,
    `\`${field}\` must be a string, a list of strings, a list of token ids or a list of token id lists.`,
    field,
  );
  if (!Array.isArray(prompt) || prompt.length === 0) return invalid;
  if (prompt.every((item) => typeof item === 'string')) return prompt as string[];
  const lists = prompt.every((item) => typeof item === 'number') ? [prompt] : prompt;
  const texts: string[] = [];
  for (const ids of lists) {
    if (!Array.isArray(ids) || ids.length === 0) return invalid;
    const decoded = decodeTokens(ids);
    if ('invalid' in decoded) return invalidToken(decoded.invalid, field);
    texts.push(decoded.text);
  }
  return texts;
}

/** A token id outside the vocabulary (the simulated tokenizer's own wording). */
export function invalidToken(id: unknown, field: string): VllmError {
  return vllmError(400, `Token id ${JSON.stringify(id)} is out of vocabulary.`, field);
}
