/**
 * `GET /v1/models` and the served-model check every model route makes.
 *
 * Follows `ModelCard` / `ModelList` (vllm/entrypoints/openai/engine/protocol.py, the
 * same fields in v0.10.0's protocol.py) and `OpenAIServingModels.show_available_models`
 * (vllm/entrypoints/openai/models/serving.py): one card per served name, `root` the
 * model path, `max_model_len` the context length.
 */
import { type MockAgentBehavior, servedNames } from './mock-behavior.js';
import { modelNotFound, type VllmError } from './vllm-errors.js';
import { created, responseId } from './vllm-shapes.js';

/** Body of `GET /v1/models`. */
export function modelsBody(behavior: Readonly<MockAgentBehavior>): string {
  const now = created();
  return JSON.stringify({
    object: 'list',
    data: servedNames(behavior).map((name) => ({
      id: name,
      object: 'model',
      created: now,
      owned_by: 'vllm',
      root: behavior.model,
      parent: null,
      max_model_len: behavior.maxModelLen,
      permission: [
        {
          id: responseId('modelperm'),
          object: 'model_permission',
          created: now,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: '*',
          group: null,
          is_blocking: false,
        },
      ],
    })),
  });
}

/**
 * vLLM's `_check_model`: a request naming no model (or null) is served; one naming
 * another model gets 404 — unless the agent is not strict (`strictModel: false`).
 */
export function checkModel(
  behavior: Readonly<MockAgentBehavior>,
  model: unknown,
): VllmError | undefined {
  if (model === undefined || model === null || !behavior.strictModel) return undefined;
  if (typeof model === 'string' && servedNames(behavior).includes(model)) return undefined;
  return modelNotFound(model);
}

/** The model name vLLM puts in answers: the first served name, whatever the request named. */
export function answerModel(behavior: Readonly<MockAgentBehavior>): string {
  return servedNames(behavior)[0] ?? behavior.model;
}
