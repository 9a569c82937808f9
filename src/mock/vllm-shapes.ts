/** Small pieces every vLLM answer shares: ids, timestamps, usage blocks. */

let sequence = 0;

/** A vLLM-style id such as `chatcmpl-1a2b`. */
export function responseId(prefix: string): string {
  sequence = (sequence + 1) % 0x7fffffff;
  return `${prefix}-${process.pid.toString(16)}${sequence.toString(16).padStart(8, '0')}`;
}

/** Seconds since the epoch, as OpenAI's `created` field. */
export function created(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * `UsageInfo` of vllm/entrypoints/openai/engine/protocol.py (the same fields in
 * v0.10.0's protocol.py): `prompt_tokens_details` is null unless prefix caching reports.
 */
export function usage(promptTokens: number, completionTokens: number) {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: null,
  };
}
