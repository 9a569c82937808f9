import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';

/** How a simulated agent fails, when it does. */
export type MockFailure =
  | 'none'
  /** Never sends response headers (until the client goes away). */
  | 'hang'
  /** Sends headers, then stays silent. */
  | 'hang-body'
  /** Sends headers and a few chunks, then destroys the socket. */
  | 'die-mid-stream'
  /** Answers `failureStatus` with vLLM's error JSON. */
  | 'status'
  /** Answers 200 with a body that is not valid JSON. */
  | 'malformed'
  /** Reads the request, then destroys the socket without answering. */
  | 'drop'
  /**
   * vLLM's in-band stream error: a streamed generation sends a few tokens, then
   * `data: {"error": {...}}` and `data: [DONE]`; a whole one answers 500.
   */
  | 'stream-error';

/**
 * Which vLLM the agent answers like. `current`: vLLM ≥ 0.17 (nested
 * `{"error": {...}}` bodies, `reasoning`, today's context-length wording).
 * `legacy`: vLLM ≤ 0.10.0 (flat `{"object": "error", ...}` bodies,
 * `reasoning_content`, the old "maximum context length" wording).
 * docs/mock-agents.md lists what each follows, with vLLM's file.
 */
export type VllmDialect = 'current' | 'legacy';

/** What a `vllm serve` answers: generation only, embeddings only, or (the mock's default) both. */
export type MockTask = 'both' | 'generate' | 'embed';

/**
 * Reasoning-model replies: `off` (plain replies), `on` (a reasoning part, then the
 * answer), `only` (reasoning and `content: null`, as a model that never stops thinking).
 */
export type MockReasoning = 'off' | 'on' | 'only';

/** Behaviour of one simulated vLLM agent. Every field can be changed at run time. */
export interface MockAgentBehavior {
  /** Model id served. @default 'meta-llama/Llama-3.1-70B-Instruct' (the usage guide's model) */
  model: string;
  /**
   * Names the agent answers to (vLLM's `--served-model-name`); the first is the id it
   * reports. `undefined` serves `model` under its own name. @default undefined
   */
  servedModelNames: readonly string[] | undefined;
  /** Reject requests naming another model with vLLM's 404 (a request without `model` is served), like real vLLM. @default true */
  strictModel: boolean;
  /** Which vLLM to answer like. @default 'current' */
  vllmVersion: VllmDialect;
  /** Which routes the agent serves, like a real `vllm serve` of one model. @default 'both' */
  task: MockTask;
  /** Reasoning-model replies. @default 'off' */
  reasoning: MockReasoning;
  /**
   * Generations served at once (vLLM's `--max-num-seqs`); later ones wait in a queue
   * (`vllm:num_requests_waiting`). @default 256
   */
  maxNumSeqs: number;
  /** `max_model_len` reported by `/v1/models` and enforced on prompts. @default 8192 */
  maxModelLen: number;
  /** Delay before response headers, in milliseconds. @default 0 */
  latencyMs: number;
  /** Delay between generated tokens, in milliseconds (streamed or not). @default 0 */
  tokenIntervalMs: number;
  /** Pad or cut every reply to exactly this many tokens; `undefined` keeps the reply as written. @default undefined */
  completionTokens: number | undefined;
  /** Length of `/v1/embeddings` vectors. @default 16 */
  embeddingDimensions: number;
  /** Injected failure. @default 'none' */
  failure: MockFailure;
  /** Probability (0–1) that a request gets the injected failure. @default 1 */
  failureRate: number;
  /** HTTP status for `failure: 'status'`. @default 500 */
  failureStatus: number;
  /** Text of a reply; the default names the agent and echoes the prompt's start. */
  reply: ((prompt: string, agentIndex: number) => string) | undefined;
}

/** Default behaviour of simulated agents. */
export const DEFAULT_MOCK_BEHAVIOR: Readonly<MockAgentBehavior> = Object.freeze({
  model: 'meta-llama/Llama-3.1-70B-Instruct',
  servedModelNames: undefined,
  strictModel: true,
  vllmVersion: 'current',
  task: 'both',
  reasoning: 'off',
  maxNumSeqs: 256,
  maxModelLen: 8192,
  latencyMs: 0,
  tokenIntervalMs: 0,
  completionTokens: undefined,
  embeddingDimensions: 16,
  failure: 'none',
  failureRate: 1,
  failureStatus: 500,
  reply: undefined,
});

/** Every value `failure` accepts. */
export const MOCK_FAILURES: readonly MockFailure[] = [
  'none',
  'hang',
  'hang-body',
  'die-mid-stream',
  'status',
  'malformed',
  'drop',
  'stream-error',
];

/** Every value `vllmVersion` accepts. */
export const VLLM_DIALECTS: readonly VllmDialect[] = ['current', 'legacy'];

/** Every value `task` accepts. */
export const MOCK_TASKS: readonly MockTask[] = ['both', 'generate', 'embed'];

/** Every value `reasoning` accepts. */
export const MOCK_REASONING: readonly MockReasoning[] = ['off', 'on', 'only'];

/** The names an agent with `behavior` answers to; the first is the one it reports. */
export function servedNames(behavior: Readonly<MockAgentBehavior>): readonly string[] {
  return behavior.servedModelNames ?? [behavior.model];
}

/** Merge a partial behaviour over a base one, validating every given field. */
export function resolveMockBehavior(
  base: Readonly<MockAgentBehavior>,
  patch: Partial<MockAgentBehavior> = {},
): MockAgentBehavior {
  const behavior = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (
      value === undefined &&
      key !== 'completionTokens' &&
      key !== 'reply' &&
      key !== 'servedModelNames'
    ) {
      continue;
    }
    (behavior as Record<string, unknown>)[key] = value;
  }
  const nonNegative = (name: keyof MockAgentBehavior, integer: boolean) => {
    const value = behavior[name];
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      (integer && !Number.isInteger(value))
    ) {
      throw new InvalidOptionError(
        `mock behavior ${name} must be a non-negative ${integer ? 'integer' : 'number'}, got ${describeValue(value)}`,
      );
    }
  };
  nonNegative('latencyMs', false);
  nonNegative('tokenIntervalMs', false);
  nonNegative('embeddingDimensions', true);
  if (behavior.completionTokens !== undefined) nonNegative('completionTokens', true);
  if (!Number.isInteger(behavior.maxModelLen) || behavior.maxModelLen < 1) {
    throw new InvalidOptionError(
      `mock behavior maxModelLen must be a positive integer, got ${describeValue(behavior.maxModelLen)}`,
    );
  }
  if (!(behavior.failureRate >= 0 && behavior.failureRate <= 1)) {
    throw new InvalidOptionError(
      `mock behavior failureRate must be between 0 and 1, got ${describeValue(behavior.failureRate)}`,
    );
  }
  if (!MOCK_FAILURES.includes(behavior.failure)) {
    throw new InvalidOptionError(
      `mock behavior failure must be one of ${MOCK_FAILURES.join(', ')}, got ${describeValue(behavior.failure)}`,
    );
  }
  if (
    !Number.isInteger(behavior.failureStatus) ||
    behavior.failureStatus < 100 ||
    behavior.failureStatus > 599
  ) {
    throw new InvalidOptionError(
      `mock behavior failureStatus must be an HTTP status, got ${describeValue(behavior.failureStatus)}`,
    );
  }
  const oneOf = <T>(name: keyof MockAgentBehavior, allowed: readonly T[]) => {
    if (!allowed.includes(behavior[name] as T)) {
      throw new InvalidOptionError(
        `mock behavior ${name} must be one of ${allowed.join(', ')}, got ${describeValue(behavior[name])}`,
      );
    }
  };
  oneOf('vllmVersion', VLLM_DIALECTS);
  oneOf('task', MOCK_TASKS);
  oneOf('reasoning', MOCK_REASONING);
  if (!Number.isInteger(behavior.maxNumSeqs) || behavior.maxNumSeqs < 1) {
    throw new InvalidOptionError(
      `mock behavior maxNumSeqs must be a positive integer, got ${describeValue(behavior.maxNumSeqs)}`,
    );
  }
  const names = behavior.servedModelNames;
  if (
    names !== undefined &&
    (!Array.isArray(names) ||
      names.length === 0 ||
      !names.every((name) => typeof name === 'string' && name !== ''))
  ) {
    throw new InvalidOptionError(
      `mock behavior servedModelNames must be a non-empty list of non-empty strings, got ${describeValue(names)}`,
    );
  }
  if (typeof behavior.model !== 'string' || behavior.model === '') {
    throw new InvalidOptionError(
      `mock behavior model must be a non-empty string, got ${describeValue(behavior.model)}`,
    );
  }
  return behavior;
}
