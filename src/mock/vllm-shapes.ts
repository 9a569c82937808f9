/** Response bodies shaped like vLLM's OpenAI-compatible server. */

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

/** vLLM's error body: `{"object":"error","message":…,"type":…,"param":null,"code":status}`. */
export function errorBody(status: number, message: string): string {
  const type =
    status === 400
      ? 'BadRequestError'
      : status === 404
        ? 'NotFoundError'
        : status === 429
          ? 'RateLimitError'
          : status === 503
            ? 'ServiceUnavailableError'
            : 'InternalServerError';
  return JSON.stringify({ object: 'error', message, type, param: null, code: status });
}

/** The context-length message vLLM gives when prompt plus completion do not fit. */
export function contextOverflowMessage(
  maxModelLen: number,
  promptTokens: number,
  maxTokens: number,
): string {
  return `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${
    promptTokens + maxTokens
  } tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`;
}

/** Body of `GET /v1/models`. */
export function modelsBody(model: string, maxModelLen: number): string {
  return JSON.stringify({
    object: 'list',
    data: [
      {
        id: model,
        object: 'model',
        created: created(),
        owned_by: 'vllm',
        root: model,
        parent: null,
        max_model_len: maxModelLen,
        permission: [],
      },
    ],
  });
}

/** Usage block. */
export function usage(promptTokens: number, completionTokens: number) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}
