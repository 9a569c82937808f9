/**
 * Reading OpenAI-style completion answers (chat and raw, whole or streamed) into
 * text, finish reason and usage. Internal.
 */
import type { TokenUsage } from './types.js';

/** One choice of an answer. */
export interface ParsedChoice {
  index: number;
  text: string;
  finishReason: string | undefined;
}

/** A completion answer, or why it is not one. */
export type ParsedCompletion =
  | { ok: true; choices: ParsedChoice[]; usage: TokenUsage | undefined }
  | { ok: false; what: string };

/** Parse a `/v1/chat/completions` or `/v1/completions` body. */
export function parseCompletion(bodyText: string): ParsedCompletion {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return { ok: false, what: 'a body that is not JSON' };
  }
  const choices = (json as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    return { ok: false, what: 'no "choices"' };
  }
  const parsed: ParsedChoice[] = [];
  for (let position = 0; position < choices.length; position++) {
    const choice = choices[position] as Record<string, unknown> | null;
    if (choice === null || typeof choice !== 'object') continue;
    parsed.push({
      index: typeof choice.index === 'number' ? choice.index : position,
      text: choiceText(choice),
      finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined,
    });
  }
  return { ok: true, choices: parsed, usage: parseUsage((json as { usage?: unknown }).usage) };
}

/** The text of a choice: chat `message`, streamed `delta`, or raw `text`. */
export function choiceText(choice: Record<string, unknown>): string {
  const message = (choice.message ?? choice.delta) as Record<string, unknown> | undefined;
  if (message && typeof message === 'object') {
    // Reasoning models may leave `content` empty or null: vLLM ≥ 0.11.1 puts the text in
    // `reasoning` (PR #27752), earlier versions in `reasoning_content` (removed by PR #33402).
    const content = message.content;
    if (typeof content === 'string' && content !== '') return content;
    if (typeof message.reasoning === 'string' && message.reasoning !== '') return message.reasoning;
    if (typeof message.reasoning_content === 'string') return message.reasoning_content;
    return typeof content === 'string' ? content : '';
  }
  return typeof choice.text === 'string' ? choice.text : '';
}

/** OpenAI `usage` → `TokenUsage`, or `undefined` when absent or malformed. */
export function parseUsage(usage: unknown): TokenUsage | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  const record = usage as Record<string, unknown>;
  const promptTokens = record.prompt_tokens;
  const completionTokens = record.completion_tokens;
  if (typeof promptTokens !== 'number' || typeof completionTokens !== 'number') return undefined;
  const totalTokens = record.total_tokens;
  return {
    promptTokens,
    completionTokens,
    totalTokens: typeof totalTokens === 'number' ? totalTokens : promptTokens + completionTokens,
  };
}
