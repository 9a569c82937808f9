/**
 * `POST /tokenize` and `POST /detokenize`.
 *
 * Follows `TokenizeCompletionRequest` / `TokenizeChatRequest` / `TokenizeResponse`
 * (`{count, max_model_len, tokens, token_strs}`) and `DetokenizeRequest` /
 * `DetokenizeResponse` (`{prompt}`) of vllm/entrypoints/serve/tokenize/protocol.py
 * (v0.10.0: vllm/entrypoints/openai/protocol.py). Token ids come from the simulated
 * tokenizer (mock-tokens.ts), so they round-trip and count as the context check counts.
 */

import type { MockExchange } from './mock-exchange.js';
import { decodeTokens, encodeTokens, tokenStrings } from './mock-tokens.js';
import { messageText } from './vllm-chat.js';
import { invalidToken } from './vllm-completions.js';
import { vllmError } from './vllm-errors.js';

/** Answer `/tokenize` (`body` already a JSON object, model checked). */
export function serveTokenize(exchange: MockExchange, body: Record<string, unknown>): void {
  let text: string;
  if (typeof body.prompt === 'string') {
    text = body.prompt;
  } else if (Array.isArray(body.messages)) {
    text = body.messages
      .map((message) => messageText((message as { content?: unknown })?.content))
      .join('\n');
  } else {
    exchange.fail(
      vllmError(400, 'Either `prompt` (a string) or `messages` is required.', 'prompt'),
    );
    return;
  }
  exchange.json(
    JSON.stringify({
      count: encodeTokens(text).length,
      max_model_len: exchange.behavior.maxModelLen,
      tokens: encodeTokens(text),
      token_strs: body.return_token_strs === true ? tokenStrings(text) : null,
    }),
  );
}

/** Answer `/detokenize` (`body` already a JSON object, model checked). */
export function serveDetokenize(exchange: MockExchange, body: Record<string, unknown>): void {
  if (!Array.isArray(body.tokens)) {
    exchange.fail(vllmError(400, '`tokens` must be a list of token ids.', 'tokens'));
    return;
  }
  const decoded = decodeTokens(body.tokens);
  if ('invalid' in decoded) {
    exchange.fail(invalidToken(decoded.invalid, 'tokens'));
    return;
  }
  exchange.json(JSON.stringify({ prompt: decoded.text }));
}
