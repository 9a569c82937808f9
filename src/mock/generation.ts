/**
 * What chat and completions share: the sampling fields both read (`n`, `max_tokens`,
 * `stop`, `stream`, `stream_options`), the context-length check, the planned choices,
 * and the writer that answers whole or as server-sent events with vLLM's chunk rules.
 * Chat and completions only format a choice (vllm-chat.ts, vllm-completions.ts).
 *
 * Followed (docs/mock-agents.md): `StreamOptions` (include_usage defaults to true) and
 * `validate_stream_options` of vllm/entrypoints/openai/chat_completion/protocol.py;
 * `SamplingParams._verify_args` (vllm/sampling_params.py) for `n` and `max_tokens`;
 * the stream generators of chat_completion/serving.py and completion/serving.py (role
 * chunk first, `finish_reason` and `stop_reason` on a choice's last chunk, a usage
 * chunk with `choices: []`, in-band `data: {"error": …}` then `data: [DONE]`).
 */
import type { MockAgentBehavior } from './mock-behavior.js';
import type { MockExchange } from './mock-exchange.js';
import { defaultReply, fitTokens, reasoningText, tokenize } from './mock-text.js';
import {
  contextOverflow,
  errorBody,
  maxTokensTooLarge,
  type VllmError,
  validationError,
  vllmError,
} from './vllm-errors.js';
import { answerModel } from './vllm-models.js';
import { created, responseId, usage } from './vllm-shapes.js';

/** A generation request after parsing. */
export interface GenerationRequest {
  /** Prompt texts (what replies echo) and their token counts, one per prompt. */
  prompts: Array<{ text: string; tokens: number }>;
  /** Choices per prompt. */
  n: number;
  /** `max_tokens` as asked (completions: 16 when absent), or undefined for "what is left". */
  maxTokens: number | undefined;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  /** Whether replies may carry a reasoning part (chat only). */
  reasoning: boolean;
}

/** One planned choice. */
export interface PlannedChoice {
  index: number;
  promptIndex: number;
  reasoning: string[];
  content: string[];
  /** Whether `content` is null in the answer (reasoning-only replies). */
  contentNull: boolean;
  finishReason: 'stop' | 'length';
  stopReason: string | null;
}

/** How chat or completions put a choice into a body or a chunk. */
export interface GenerationFormat {
  idPrefix: string;
  object: string;
  chunkObject: string;
  /** A choice of the whole answer. */
  choice(choice: PlannedChoice): Record<string, unknown>;
  /** Extra top-level fields of the whole answer. */
  extraFields: Record<string, unknown>;
  /** Chunks sent before any token (chat: the assistant role), or none. */
  openingChoice?: (index: number) => Record<string, unknown>;
  /** A stream choice carrying one token; `last` adds finish and stop reasons. */
  deltaChoice(
    choice: PlannedChoice,
    piece: { kind: 'reasoning' | 'content'; text: string },
    last: boolean,
  ): Record<string, unknown>;
}

/** The sampling fields both endpoints read; `maxTokens` from the endpoint's own field rule. */
export function parseSampling(
  body: Record<string, unknown>,
  maxTokens: unknown,
):
  | (Omit<GenerationRequest, 'prompts' | 'reasoning' | 'maxTokens'> & {
      maxTokens: number | undefined;
    })
  | VllmError {
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1) {
    return vllmError(400, `n must be at least 1, got ${JSON.stringify(n)}.`);
  }
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) {
    return vllmError(400, `max_tokens must be at least 1, got ${JSON.stringify(maxTokens)}.`);
  }
  const stop = body.stop ?? [];
  const stops = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(stops) || !stops.every((item) => typeof item === 'string')) {
    return vllmError(400, '`stop` must be a string or a list of strings.');
  }
  const stream = body.stream === true;
  const options = body.stream_options;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) {
      return vllmError(400, '`stream_options` must be an object.', 'stream_options');
    }
    // Python truthiness: `{}` passes the check, any field makes it a stream-only option.
    if (!stream && Object.keys(options).length > 0) {
      return validationError(
        'Stream options can only be defined when `stream=True`.',
        'stream_options',
      );
    }
  }
  const streamOptions =
    stream && options !== null && typeof options === 'object' ? options : undefined;
  const includeUsage =
    streamOptions !== undefined &&
    (streamOptions as { include_usage?: unknown }).include_usage !== false;
  return {
    n: n as number,
    maxTokens: maxTokens as number | undefined,
    stop: (stops as string[]).filter((item) => item !== ''),
    stream,
    includeUsage,
    continuousUsage:
      includeUsage &&
      (streamOptions as { continuous_usage_stats?: unknown }).continuous_usage_stats === true,
  };
}

/** The context check of the agent's vLLM, or the room each prompt leaves for output. */
export function checkContext(
  behavior: Readonly<MockAgentBehavior>,
  request: GenerationRequest,
): VllmError | number[] {
  const { maxModelLen, vllmVersion } = behavior;
  const room: number[] = [];
  for (const prompt of request.prompts) {
    const maxTokens = request.maxTokens;
    if (vllmVersion === 'current' && maxTokens !== undefined && maxTokens > maxModelLen) {
      return maxTokensTooLarge(vllmVersion, maxModelLen, prompt.tokens, maxTokens);
    }
    const overflow =
      maxTokens === undefined
        ? prompt.tokens >= maxModelLen
        : prompt.tokens + maxTokens > maxModelLen;
    if (overflow) return contextOverflow(vllmVersion, maxModelLen, prompt.tokens, maxTokens);
    room.push(maxTokens ?? maxModelLen - prompt.tokens);
  }
  return room;
}

/** The choices the agent will produce: `index` = prompt position × n + j. */
export function planChoices(
  exchange: MockExchange,
  request: GenerationRequest,
  room: readonly number[],
): PlannedChoice[] {
  const { behavior, agentIndex } = exchange;
  const choices: PlannedChoice[] = [];
  request.prompts.forEach((prompt, promptIndex) => {
    for (let j = 0; j < request.n; j++) {
      const text = behavior.reply
        ? behavior.reply(prompt.text, agentIndex)
        : defaultReply(prompt.text, agentIndex, answerModel(behavior));
      let content = fitTokens(tokenize(text), behavior.completionTokens);
      let finishReason: PlannedChoice['finishReason'] = 'stop';
      let stopReason: string | null = null;
      const joined = content.join('');
      let cutAt = -1;
      for (const stop of request.stop) {
        const at = joined.indexOf(stop);
        if (at >= 0 && (cutAt < 0 || at < cutAt)) {
          cutAt = at;
          stopReason = stop;
        }
      }
      if (cutAt >= 0) content = tokenize(joined.slice(0, cutAt));
      const thinking = request.reasoning && behavior.reasoning !== 'off';
      let reasoning = thinking ? tokenize(reasoningText(prompt.text, agentIndex)) : [];
      if (behavior.reasoning === 'only' && thinking) content = [];
      const limit = room[promptIndex] ?? 0;
      if (reasoning.length + content.length > limit) {
        reasoning = reasoning.slice(0, limit);
        content = content.slice(0, Math.max(0, limit - reasoning.length));
        finishReason = 'length';
        stopReason = null;
      }
      choices.push({
        index: choices.length,
        promptIndex,
        reasoning,
        content,
        contentNull: thinking && content.length === 0,
        finishReason,
        stopReason,
      });
    }
  });
  return choices;
}

/**
 * Answer a planned generation: wait for a place in the agent's queue, then send the
 * whole answer after the tokens' time, or stream it token by token.
 */
export function serveGeneration(
  exchange: MockExchange,
  request: GenerationRequest,
  choices: PlannedChoice[],
  format: GenerationFormat,
): void {
  exchange.slots.enter(exchange.response, (release) => {
    const promptTokens = request.prompts.reduce((sum, prompt) => sum + prompt.tokens, 0);
    exchange.counters.promptTokens += promptTokens;
    const finish = () => {
      for (const choice of choices) {
        exchange.counters.generationTokens += choice.reasoning.length + choice.content.length;
        const finished = exchange.counters.finished;
        finished.set(choice.finishReason, (finished.get(choice.finishReason) ?? 0) + 1);
      }
      release();
    };
    if (request.stream) streamAnswer(exchange, request, choices, format, promptTokens, finish);
    else wholeAnswer(exchange, choices, format, promptTokens, finish);
  });
}

/**
 * `hang-body` and `die-mid-stream` of a whole answer: headers and the start of a body,
 * then silence or a cut connection. Returns whether the failure took over.
 */
export function breakWholeAnswer(exchange: MockExchange): boolean {
  const { response, failure } = exchange;
  if (failure !== 'hang-body' && failure !== 'die-mid-stream') return false;
  response.writeHead(200, { 'content-type': 'application/json' });
  response.write('{"id":"');
  if (failure === 'die-mid-stream') exchange.cut();
  return true;
}

/** GenerationError → `_convert_generation_error_to_response`: 500 "Internal server error". */
export const GENERATION_ERROR = vllmError(500, 'Internal server error');

function completionTokens(choices: readonly PlannedChoice[]): number {
  return choices.reduce((sum, choice) => sum + choice.reasoning.length + choice.content.length, 0);
}

function wholeAnswer(
  exchange: MockExchange,
  choices: PlannedChoice[],
  format: GenerationFormat,
  promptTokens: number,
  finish: () => void,
): void {
  const { failure, behavior } = exchange;
  if (breakWholeAnswer(exchange)) return;
  const steps = Math.max(0, ...choices.map((c) => c.reasoning.length + c.content.length));
  exchange.after(behavior.tokenIntervalMs * steps, () => {
    finish();
    if (failure === 'stream-error') {
      exchange.fail(GENERATION_ERROR);
      return;
    }
    exchange.json(
      JSON.stringify({
        id: responseId(format.idPrefix),
        object: format.object,
        created: created(),
        model: answerModel(behavior),
        choices: choices.map((choice) => format.choice(choice)),
        usage: usage(promptTokens, completionTokens(choices)),
        ...format.extraFields,
      }),
    );
  });
}

function streamAnswer(
  exchange: MockExchange,
  request: GenerationRequest,
  choices: PlannedChoice[],
  format: GenerationFormat,
  promptTokens: number,
  finish: () => void,
): void {
  const { response, failure, behavior } = exchange;
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.flushHeaders();
  if (failure === 'hang-body') return;
  const head = {
    id: responseId(format.idPrefix),
    object: format.chunkObject,
    created: created(),
    model: answerModel(behavior),
  };
  let generated = 0;
  const event = (choice: Record<string, unknown>) => {
    const chunk: Record<string, unknown> = { ...head, choices: [choice] };
    if (request.continuousUsage) chunk.usage = streamUsage(promptTokens, generated);
    return `data: ${JSON.stringify(chunk)}\n\n`;
  };
  if (format.openingChoice) {
    response.write(choices.map((choice) => event(format.openingChoice!(choice.index))).join(''));
  }
  const steps = Math.max(0, ...choices.map((c) => c.reasoning.length + c.content.length));
  const failAt = Math.min(2, steps);
  let step = 0;
  const next = () => {
    if (failure === 'die-mid-stream' && step >= failAt) {
      exchange.cut();
      return;
    }
    if (failure === 'stream-error' && step >= failAt) {
      const error = errorBody(GENERATION_ERROR, behavior.vllmVersion);
      finish();
      response.end(`data: ${JSON.stringify(error)}\n\ndata: [DONE]\n\n`);
      return;
    }
    if (step < steps) {
      let text = '';
      for (const choice of choices) {
        const length = choice.reasoning.length + choice.content.length;
        if (step >= length) continue;
        generated++;
        const piece =
          step < choice.reasoning.length
            ? { kind: 'reasoning' as const, text: choice.reasoning[step] ?? '' }
            : {
                kind: 'content' as const,
                text: choice.content[step - choice.reasoning.length] ?? '',
              };
        text += event(format.deltaChoice(choice, piece, step === length - 1));
      }
      response.write(text);
      step++;
      exchange.after(behavior.tokenIntervalMs, next);
      return;
    }
    // A choice with no token at all still ends with its finish reason.
    let tail = choices
      .filter((choice) => choice.reasoning.length + choice.content.length === 0)
      .map((choice) => event(format.deltaChoice(choice, { kind: 'content', text: '' }, true)))
      .join('');
    if (request.includeUsage) {
      tail += `data: ${JSON.stringify({ ...head, choices: [], usage: streamUsage(promptTokens, completionTokens(choices)) })}\n\n`;
    }
    finish();
    response.end(`${tail}data: [DONE]\n\n`);
  };
  next();
}

/** Streamed usage is serialised with `exclude_unset`: no `prompt_tokens_details`. */
function streamUsage(promptTokens: number, completion: number) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
  };
}
