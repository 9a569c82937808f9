// Dead, slow and stalled agents: the circuit breaker, least-loaded dispatch and hedging.
import { startMockSwarm, VLLMPool } from 'aurora-swarm';

const swarm = await startMockSwarm({ count: 4 });
try {
  await swarm.agents[1]?.stop(); // dead: connection refused
  swarm.agents[2]?.setBehavior({ latencyMs: 500 }); // slow
  // A small concurrency, so that prompts wait for a free agent (as in any long run).
  await using pool = new VLLMPool({ endpoints: swarm.endpoints, concurrency: 6, retryDelayMs: 10 });

  // Round-robin (the default): agent 1's share fails, fast once its breaker is open.
  const roundRobin = await pool.sendAll(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  console.log(
    'round-robin:',
    roundRobin.map((response) => (response.success ? 'ok' : response.failureKind)).join(' '),
  );
  const dead = pool.agentHealth()[1];
  console.log(`agent 1: ${dead?.state}, ${dead?.consecutiveFailures} connection failures`);

  // Least-loaded: every prompt answered, the slow agent takes fewer, the dead one none.
  const prompts = Array.from({ length: 60 }, (_, index) => `question ${index}`);
  const leastLoaded = await pool.sendAll(prompts, { dispatch: 'least-loaded' });
  const perAgent = new Map<number, number>();
  for (const { success, globalIndex } of leastLoaded) {
    if (success) perAgent.set(globalIndex, (perAgent.get(globalIndex) ?? 0) + 1);
  }
  console.log('least-loaded answers per agent:', Object.fromEntries(perAgent));

  // Hedging: agent 0 stalls; after 100 ms the prompt also goes to another agent.
  swarm.agents[0]?.setBehavior({ failure: 'hang' });
  const hedged = await pool.post(0, 'are you there?', { hedgeAfterMs: 100 });
  console.log(`hedged: ${hedged.hedged}, answered by agent ${hedged.globalIndex}`);
} finally {
  await swarm.close();
}
