import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scatterGatherEmbeddings } from '../../src/patterns/scatter-gather-embeddings.js';
import type {
  EmbeddingCallOptions,
  EmbeddingResponse,
  EmbeddingSwarmPool,
} from '../../src/pool/types.js';

class FakeEmbeddingPool implements EmbeddingSwarmPool {
  readonly size: number;
  readonly concurrency = 2;
  readonly calls: { agentIndex: number; text: string; options?: EmbeddingCallOptions }[] = [];
  inFlight = 0;
  peakInFlight = 0;
  readonly pending: (() => void)[] = [];
  constructor(size: number) {
    this.size = size;
  }
  embedOne(
    agentIndex: number,
    text: string,
    options?: EmbeddingCallOptions,
  ): Promise<EmbeddingResponse> {
    this.calls.push({ agentIndex, text, options });
    this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    return new Promise((resolve) => {
      // Finish in reverse order of arrival within the window to show the output order is the input's.
      this.pending.unshift(() => {
        this.inFlight -= 1;
        resolve(
          text === 'bad'
            ? {
                success: false,
                error: 'HTTP 400',
                failureKind: 'http',
                agentIndex,
                globalIndex: agentIndex,
              }
            : {
                success: true,
                embedding: [text.length, agentIndex],
                agentIndex,
                globalIndex: agentIndex,
              },
        );
      });
      if (this.pending.length === this.concurrency || this.calls.length === 5) {
        for (const finish of this.pending.splice(0)) finish();
      }
    });
  }
  embedAll(texts: readonly string[]): Promise<EmbeddingResponse[]> {
    return Promise.all(texts.map((text, index) => this.embedOne(index % this.size, text)));
  }
}

describe('scatterGatherEmbeddings', () => {
  test('text i goes to agent i % size; embeddings in input order; failures in place', async () => {
    const pool = new FakeEmbeddingPool(2);
    const result = await scatterGatherEmbeddings(pool, ['a', 'bb', 'bad', 'dddd', 'eeeee'], {
      timeoutMs: 500,
    });
    assert.deepEqual(
      result.map((response) => response.embedding ?? response.error),
      [[1, 0], [2, 1], 'HTTP 400', [4, 1], [5, 0]],
    );
    assert.equal(pool.peakInFlight, 2);
    assert.equal(pool.calls[0]?.options?.timeoutMs, 500);
  });

  test('an aborted signal sends nothing and reports every text', async () => {
    const pool = new FakeEmbeddingPool(2);
    const result = await scatterGatherEmbeddings(pool, ['a', 'b'], { signal: AbortSignal.abort() });
    assert.equal(pool.calls.length, 0);
    assert.deepEqual(
      result.map((response) => [response.success, response.failureKind, response.agentIndex]),
      [
        [false, 'aborted', 0],
        [false, 'aborted', 1],
      ],
    );
  });

  test('bad input throws', async () => {
    const pool = new FakeEmbeddingPool(2);
    await assert.rejects(
      scatterGatherEmbeddings(pool, [1 as unknown as string]),
      /texts\[0\] must be a string/,
    );
    await assert.rejects(
      scatterGatherEmbeddings({} as EmbeddingSwarmPool, ['a']),
      /pool must be an EmbeddingPool/,
    );
    assert.deepEqual(await scatterGatherEmbeddings(new FakeEmbeddingPool(0), []), []);
  });
});
