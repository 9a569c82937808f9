/**
 * `POST /v1/chat/completions`.
 *
 * Follows `ChatCompletionRequest` / `ChatMessage` / `DeltaMessage` and the response
 * classes of vllm/entrypoints/openai/chat_completion/protocol.py (current) and
 * vllm/entrypoints/openai/protocol.py of v0.10.0 (legacy), and the generators of
 * chat_completion/serving.py (serving_chat.py in v0.10.0): `max_completion_tokens` wins
 * over `max_tokens`; without either the reply may use the rest of the context; a
 * reasoning model's text is `reasoning` (legacy: `reasoning_content`), `content: null`
 * when it never got to the answer.
 */
import {
  checkContext,
  type GenerationFormat,
  type GenerationRequest,
  type PlannedChoice,
  parseSampling,
  planChoices,
  serveGeneration,
} from './generation.js';
import type { VllmDialect } from './mock-behavior.js';
import type { MockExchange } from './mock-exchange.js';
import { countTokens } from './mock-tokens.js';
import { unsupportedApi, vllmError } from './vllm-errors.js';

/** Answer a chat completion request (`body` already a JSON object, model checked). */
export function serveChat(exchange: MockExchange, body: Record<string, unknown>): void {
  const { behavior } = exchange;
  if (behavior.task === 'embed') {
    exchange.fail(unsupportedApi('Chat Completions'));
    return;
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    exchange.fail(vllmError(400, '`messages` must be a non-empty list.', 'messages'));
    return;
  }
  const sampling = parseSampling(body, body.max_completion_tokens ?? body.max_tokens ?? undefined);
  if ('status' in sampling) {
    exchange.fail(sampling);
    return;
  }
  const texts = messages.map((message) => messageText((message as { content?: unknown })?.content));
  const request: GenerationRequest = {
    ...sampling,
    // The "chat template" of the simulation: the messages' texts one per line.
    prompts: [{ text: texts.at(-1) ?? '', tokens: countTokens(texts.join('\n')) }],
    reasoning: true,
  };
  const room = checkContext(behavior, request);
  if (!Array.isArray(room)) {
    exchange.fail(room);
    return;
  }
  serveGeneration(
    exchange,
    request,
    planChoices(exchange, request, room),
    chatFormat(behavior.vllmVersion),
  );
}

/** The text of a message's `content`: a string, or the text parts of a part list. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) =>
      part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join('');
}

function chatFormat(dialect: VllmDialect): GenerationFormat {
  const reasoningField = dialect === 'legacy' ? 'reasoning_content' : 'reasoning';
  return {
    idPrefix: 'chatcmpl',
    object: 'chat.completion',
    chunkObject: 'chat.completion.chunk',
    extraFields:
      dialect === 'legacy'
        ? { prompt_logprobs: null, kv_transfer_params: null }
        : {
            service_tier: null,
            system_fingerprint: null,
            prompt_logprobs: null,
            prompt_token_ids: null,
            kv_transfer_params: null,
          },
    choice: (choice: PlannedChoice) => ({
      index: choice.index,
      message: {
        role: 'assistant',
        content: choice.contentNull ? null : choice.content.join(''),
        refusal: null,
        annotations: null,
        audio: null,
        function_call: null,
        tool_calls: [],
        [reasoningField]: choice.reasoning.length > 0 ? choice.reasoning.join('') : null,
      },
      logprobs: null,
      finish_reason: choice.finishReason,
      stop_reason: choice.stopReason,
      ...(dialect === 'legacy' ? {} : { token_ids: null }),
    }),
    // Chunks are serialised with exclude_unset: only the fields vLLM sets appear.
    openingChoice: (index) => ({
      index,
      delta: { role: 'assistant', content: '' },
      logprobs: null,
      finish_reason: null,
    }),
    deltaChoice: (choice, piece, last) => ({
      index: choice.index,
      delta:
        piece.kind === 'reasoning' ? { [reasoningField]: piece.text } : { content: piece.text },
      logprobs: null,
      finish_reason: last ? choice.finishReason : null,
      ...(last ? { stop_reason: choice.stopReason } : {}),
    }),
  };
}
