// Sub-pools: byTag, sample, select, slice — same class, shared connections and limit,
// global (hostfile) indices remembered through any chain.
import { parseHostfileText, startMockSwarm, VLLMPool } from '../../src/index.js';

const swarm = await startMockSwarm({
  count: 6,
  tags: (index) => ({ role: index % 3 === 1 ? 'critic' : 'worker' }),
});
try {
  const endpoints = parseHostfileText(swarm.hostfileText);
  await using pool = new VLLMPool({ endpoints, concurrency: 64 });
  const workers = pool.byTag('role', 'worker'); // global 0, 2, 3, 5
  const chosen = workers.slice(1).select([2, 0]); // global 5, 2
  console.log('workers', workers.globalIndices, 'chosen', chosen.globalIndices);
  for (const response of await chosen.broadcastPrompt('Who are you?')) {
    console.log(
      `agentIndex ${response.agentIndex} = hostfile line ${response.globalIndex}: ${response.text.slice(0, 40)}`,
    );
  }
  const two = pool.sample(2);
  console.log(
    'sampled',
    two.size,
    'agents, concurrency shared:',
    two.concurrency === pool.concurrency,
  );
  await chosen.close(); // no-op: the connections belong to the root pool
} finally {
  await swarm.close();
}
