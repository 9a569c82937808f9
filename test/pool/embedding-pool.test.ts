import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { EmbeddingPool, resolveEmbeddingPoolOptions } from '../../src/pool/embedding-pool.js';

describe('EmbeddingPool', () => {
  test('embedAll: text i on agent i % size, input order; same text gives the same vector', async (t) => {
    const swarm = await startMockSwarm({
      count: 3,
      behavior: { model: 'embedder', embeddingDimensions: 8 },
    });
    t.after(() => swarm.close());
    await using pool = new EmbeddingPool({ endpoints: swarm.endpoints, model: 'embedder' });
    const responses = await pool.embedAll(['alpha', 'beta', 'gamma', 'alpha']);
    responses.forEach((response, index) => {
      assert.equal(response.success, true, response.error);
      assert.equal(response.agentIndex, index % 3);
      assert.equal(response.embedding?.length, 8);
    });
    assert.deepEqual(responses[0]!.embedding, responses[3]!.embedding);
    assert.notDeepEqual(responses[0]!.embedding, responses[1]!.embedding);
    const body = JSON.parse(swarm.agents[1]!.requests[0]!.body);
    assert.deepEqual(body, { model: 'embedder', input: 'beta' });
    assert.equal(
      swarm.agents
        .flatMap((agent) => agent.requests)
        .filter((request) => request.url === '/v1/models').length,
      0,
    );
  });

  test('embedOne, sub-pools with global indices, failures as values, discovered model', async (t) => {
    const swarm = await startMockSwarm({ count: 4, behavior: { model: 'embedder' } });
    t.after(() => swarm.close());
    await using pool = new EmbeddingPool({ endpoints: swarm.endpoints });
    const sub = pool.slice(2).select([1]);
    assert.ok(sub instanceof EmbeddingPool);
    const one = await sub.embedOne(0, 'text');
    assert.equal(one.success, true);
    assert.equal(one.globalIndex, 3);
    assert.equal(pool.model, 'embedder');
    const invalid = await sub.embedOne(1, 'text');
    assert.equal(invalid.failureKind, 'invalid-index');
    swarm.agents[0]!.setBehavior({ failure: 'hang' });
    const hung = await pool.embedOne(0, 'x', { timeoutMs: 150 });
    assert.equal(hung.failureKind, 'timeout');
    assert.match(hung.error ?? '', /^timeout after 150 ms/);
    await assert.rejects(pool.embedAll([1 as unknown as string]), { code: 'ERR_INVALID_OPTION' });
  });

  test('default timeout is 60 s', () => {
    const resolved = resolveEmbeddingPoolOptions(
      { endpoints: [{ host: 'a', port: 1, tags: {}, url: 'http://a:1' }] },
      {},
    );
    assert.equal(resolved.pool.timeoutMs, 60_000);
  });
});
