/**
 * `POST /v1/embeddings`.
 *
 * Follows `EmbeddingCompletionRequest` / `EmbeddingResponse` (vllm/entrypoints/pooling/
 * embed/protocol.py; v0.10.0: vllm/entrypoints/openai/protocol.py): `input` a string, a
 * list of strings, a list of token ids or a list of id lists; `encoding_format` `float`
 * (default) or `base64` — the float32 vector's little-endian bytes, as vLLM's
 * `np.array(…, dtype="float32").tobytes()` and OpenAI. Both carry the same float32 values:
 * vLLM's `encoding_pooling_output` sends the pooled tensor's `tolist()` for `float` and that
 * tensor's float32 bytes for `base64`, and a model's tensor (fp32, fp16, bf16) holds nothing
 * a float32 cannot, so a client gets the identical vector either way; `dimensions` shortens the
 * vector (the simulated model is Matryoshka-trained, so any size up to its own is
 * allowed, renormalised). A generative model answers "The model does not support
 * Embeddings API" (pooling/embed/api_router.py).
 */
import type { MockExchange } from './mock-exchange.js';
import { embedText } from './mock-text.js';
import { countTokens } from './mock-tokens.js';
import { parsePrompts } from './vllm-completions.js';
import { embeddingInputTooLong, unsupportedApi, vllmError } from './vllm-errors.js';
import { answerModel } from './vllm-models.js';
import { created, responseId, usage } from './vllm-shapes.js';

/** Answer an embeddings request (`body` already a JSON object, model checked). */
export function serveEmbeddings(exchange: MockExchange, body: Record<string, unknown>): void {
  const { behavior } = exchange;
  if (behavior.task === 'generate') {
    exchange.fail(unsupportedApi('Embeddings'));
    return;
  }
  const texts = parsePrompts(body.input, 'input');
  if (!Array.isArray(texts)) {
    exchange.fail(texts);
    return;
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    exchange.fail(
      vllmError(
        400,
        `encoding_format must be 'float' or 'base64', got ${JSON.stringify(format)}.`,
        'encoding_format',
      ),
    );
    return;
  }
  const full = behavior.embeddingDimensions;
  const dimensions = body.dimensions ?? full;
  if (!Number.isInteger(dimensions) || (dimensions as number) < 1) {
    exchange.fail(vllmError(400, 'Dimensions must be greater than 0', 'dimensions'));
    return;
  }
  if ((dimensions as number) > full) {
    exchange.fail(
      vllmError(
        400,
        `Dimensions ${dimensions} is larger than the model's embedding size ${full}.`,
        'dimensions',
      ),
    );
    return;
  }
  const tokens = texts.map(countTokens);
  const tooLong = tokens.find((count) => count > behavior.maxModelLen);
  if (tooLong !== undefined) {
    exchange.fail(embeddingInputTooLong(behavior.maxModelLen, tooLong));
    return;
  }
  const promptTokens = tokens.reduce((sum, count) => sum + count, 0);
  exchange.counters.promptTokens += promptTokens;
  exchange.slots.enter(exchange.response, (release) => {
    const data = texts.map((text, index) => {
      // float32 values, as a model's pooled tensor: `float` and `base64` give the same vector.
      const vector = shorten(embedText(text, full), dimensions as number).map(Math.fround);
      return {
        index,
        object: 'embedding',
        embedding: format === 'base64' ? encodeBase64(vector) : vector,
      };
    });
    const finished = exchange.counters.finished;
    finished.set('stop', (finished.get('stop') ?? 0) + texts.length);
    release();
    exchange.json(
      JSON.stringify({
        id: responseId('embd'),
        object: 'list',
        created: created(),
        model: answerModel(behavior),
        data,
        usage: usage(promptTokens, 0),
      }),
    );
  });
}

/** The first `dimensions` components, scaled back to unit length. */
function shorten(vector: number[], dimensions: number): number[] {
  if (dimensions === vector.length) return vector;
  const head = vector.slice(0, dimensions);
  const norm = Math.hypot(...head);
  return norm > 0 ? head.map((value) => value / norm) : head;
}

/** float32 little-endian bytes, base64 (what `encoding_format: "base64"` sends). */
export function encodeBase64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let index = 0; index < vector.length; index++) {
    bytes.writeFloatLE(vector[index] ?? 0, index * 4);
  }
  return bytes.toString('base64');
}
