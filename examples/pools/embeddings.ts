// EmbeddingPool: embedAll (text i → agent i % size, input order) and embedOne.
import { EmbeddingPool, startMockSwarm } from '../../src/index.js';

const swarm = await startMockSwarm({
  count: 2,
  behavior: { model: 'intfloat/e5-mistral-7b-instruct' },
});
try {
  await using pool = new EmbeddingPool({
    endpoints: swarm.endpoints,
    model: 'intfloat/e5-mistral-7b-instruct',
  });
  const vectors = await pool.embedAll(['lacZ', 'sigma factor', 'SOS response']);
  for (const vector of vectors) console.log(vector.agentIndex, vector.embedding?.slice(0, 3));
  const one = await pool.slice(1).embedOne(0, 'only on hostfile line 1');
  console.log('global index', one.globalIndex, 'dimensions', one.embedding?.length);
} finally {
  await swarm.close();
}
