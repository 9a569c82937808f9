/**
 * Every pattern end to end: real VLLMPool / EmbeddingPool over HTTP against simulated vLLM
 * agents on 127.0.0.1, including partial failures and cancellation.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import {
  type AgentResponse,
  Blackboard,
  broadcast,
  broadcastAndReduce,
  broadcastAndReduceDetails,
  EmbeddingPool,
  fanOutFanIn,
  fanOutFanInDetails,
  type MockAgentBehavior,
  type MockSwarm,
  mapGather,
  PipelineStageError,
  runPipeline,
  runPipelineDetails,
  scatterGather,
  scatterGatherEmbeddings,
  scatterGatherStream,
  startMockSwarm,
  treeReduce,
  treeReduceDetails,
  VLLMPool,
} from '../../src/index.js';

/** Agents answer `agent-<index>|<prompt>` unless a test says otherwise. */
const echo = (prompt: string, agentIndex: number): string => `agent-${agentIndex}|${prompt}`;

async function startSwarm(
  t: TestContext,
  count: number,
  options: {
    reply?: MockAgentBehavior['reply'];
    perAgent?: (index: number) => Partial<MockAgentBehavior> | undefined;
    tags?: (index: number) => Record<string, string>;
    maxTokensAggregation?: number;
    concurrency?: number;
  } = {},
): Promise<{ swarm: MockSwarm; pool: VLLMPool }> {
  const swarm = await startMockSwarm({
    count,
    behavior: { model: 'mock-model', reply: options.reply ?? echo },
    perAgent: options.perAgent,
    tags: options.tags,
  });
  // An explicit model and context length: no /v1/models lookup, which injected failures would hit too.
  const pool = new VLLMPool({
    endpoints: swarm.endpoints,
    model: 'mock-model',
    modelMaxContext: 8192,
    proxyUrl: null,
    maxRetries: 0,
    maxTokens: 32,
    maxTokensAggregation: options.maxTokensAggregation ?? 64,
    concurrency: options.concurrency,
  });
  t.after(async () => {
    await pool.close();
    await swarm.close();
  });
  return { swarm, pool };
}

function maxTokensOf(body: string): unknown {
  return (JSON.parse(body) as { max_tokens?: unknown }).max_tokens;
}

describe('patterns against simulated agents', { timeout: 30_000 }, () => {
  test('reducing patterns return the final response itself, as the Python original does', async (t) => {
    const swarm = await startMockSwarm({ count: 3 });
    t.after(() => swarm.close());
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, modelMaxContext: 8192 });
    // Each plain function resolves to exactly what its *Details twin reports as the answer.
    const strip = ({ latencyMs: _latency, ...rest }: AgentResponse) => rest;
    const reduced = await broadcastAndReduce(pool, 'q', 'merge:\n{responses}');
    assert.equal(reduced.success, true);
    assert.match(reduced.text, /^Agent 0 /);
    assert.deepEqual(Object.keys(reduced).includes('responses'), false);
    const reducedDetails = await broadcastAndReduceDetails(pool, 'q', 'merge:\n{responses}');
    assert.deepEqual(strip(reducedDetails.answer), strip(reduced));
    assert.equal(reducedDetails.responses.length, 3);
    const tree = await treeReduce(pool, 'leaf', 'reduce {level}:\n{responses}', { fanin: 2 });
    assert.equal(tree.success, true);
    const treeDetails = await treeReduceDetails(pool, 'leaf', 'reduce {level}:\n{responses}', {
      fanin: 2,
    });
    assert.deepEqual(strip(treeDetails.answer), strip(tree));
    const fanned = await fanOutFanIn(pool, 'work', 'collect:\n{responses}');
    assert.equal(fanned.success, true);
    const fannedDetails = await fanOutFanInDetails(pool, 'work', 'collect:\n{responses}');
    assert.deepEqual(strip(fannedDetails.answer), strip(fanned));
  });

  test('broadcast: agent order, a failing agent in its place', async (t) => {
    const { pool } = await startSwarm(t, 4, {
      perAgent: (index) => (index === 2 ? { failure: 'status', failureStatus: 500 } : undefined),
    });
    const responses = await broadcast(pool, 'hello');
    assert.deepEqual(
      responses.map((response) => [response.agentIndex, response.success]),
      [
        [0, true],
        [1, true],
        [2, false],
        [3, true],
      ],
    );
    assert.equal(responses[3]?.text, 'agent-3|hello');
    assert.ok((responses[2]?.error ?? '').length > 0);
  });

  test('scatterGather and mapGather: i % size, input order, failures in place', async (t) => {
    const { pool } = await startSwarm(t, 3, {
      perAgent: (index) => (index === 1 ? { failure: 'drop' } : undefined),
    });
    const prompts = Array.from({ length: 10 }, (_, index) => `p${index}`);
    const responses = await scatterGather(pool, prompts, { window: 4 });
    responses.forEach((response, index) => {
      assert.equal(response.agentIndex, index % 3);
      if (index % 3 === 1) assert.equal(response.success, false);
      else assert.equal(response.text, `agent-${index % 3}|p${index}`);
    });
    const mapped = await mapGather(pool, ['x', 'y', 'z'], 'item={item}');
    assert.deepEqual(
      mapped.map((response) => response.success && response.text),
      ['agent-0|item=x', false, 'agent-2|item=z'],
    );
  });

  test('scatterGatherStream: a long input keeps at most window requests in flight', async (t) => {
    const { swarm, pool } = await startSwarm(t, 4);
    function* prompts(): Generator<string> {
      for (let index = 0; index < 300; index++) yield `q${index}`;
    }
    const seen = new Set<number>();
    for await (const { index, response } of scatterGatherStream(pool, prompts(), { window: 8 })) {
      assert.equal(response.text, `agent-${index % 4}|q${index}`);
      seen.add(index);
    }
    assert.equal(seen.size, 300);
    assert.ok(swarm.inFlight.peakInFlight <= 8, `peak ${swarm.inFlight.peakInFlight}`);
  });

  test('abort: nothing new is sent and in-flight HTTP requests are cancelled', async (t) => {
    const { swarm, pool } = await startSwarm(t, 2, { perAgent: () => ({ failure: 'hang' }) });
    const controller = new AbortController();
    const done = scatterGather(pool, ['a', 'b', 'c', 'd', 'e', 'f'], {
      window: 2,
      signal: controller.signal,
    });
    await Promise.all([swarm.agents[0]?.nextRequest(), swarm.agents[1]?.nextRequest()]);
    const aborts = Promise.all([swarm.agents[0]?.nextAbort(), swarm.agents[1]?.nextAbort()]);
    controller.abort();
    const responses = await done;
    await aborts;
    assert.ok(responses.every((response) => response.failureKind === 'aborted'));
    assert.equal(
      (swarm.agents[0]?.stats.requests ?? 0) + (swarm.agents[1]?.stats.requests ?? 0),
      2,
    );
  });

  test('broadcastAndReduce: reducer gets the joined successes with the aggregation budget', async (t) => {
    const { swarm, pool } = await startSwarm(t, 3, {
      perAgent: (index) => (index === 1 ? { failure: 'status' } : undefined),
    });
    const { responses, answer: reduced } = await broadcastAndReduceDetails(
      pool,
      'q',
      'R:{responses}',
      {
        reducerAgentIndex: 2,
      },
    );
    assert.equal(responses.filter((response) => response.success).length, 2);
    assert.equal(reduced.text, 'agent-2|R:agent-0|q\n---\nagent-2|q');
    const reducerRequest = swarm.agents[2]?.requests.at(-1);
    assert.equal(maxTokensOf(reducerRequest?.body ?? '{}'), 64);
    assert.equal(maxTokensOf(swarm.agents[0]?.requests[0]?.body ?? '{}'), 32);
  });

  test('fanOutFanIn: the first nWorkers agents work, agent 0 collects', async (t) => {
    const { swarm, pool } = await startSwarm(t, 4);
    const { responses, answer: collected } = await fanOutFanInDetails(pool, 'w', 'C:{responses}', {
      nWorkers: 2,
    });
    assert.equal(responses.length, 2);
    assert.equal(collected.text, 'agent-0|C:agent-0|w\n---\nagent-1|w');
    assert.equal(swarm.agents[3]?.stats.requests, 0);
  });

  test('treeReduce: levels, verbatim placeholders, failing supervisor reported', async (t) => {
    const reply = (prompt: string, agentIndex: number): string =>
      prompt.startsWith('SUP') ? `S${agentIndex}[${prompt.slice(4)}]` : `{level}${prompt}`;
    const { pool } = await startSwarm(t, 3, { reply });
    const result = await treeReduceDetails(pool, '{item}', 'SUP {responses}', {
      items: ['a', 'b', 'c', 'd'],
      fanin: 2,
    });
    assert.equal(result.answer.success, true);
    assert.equal(
      result.answer.text,
      'S0[S0[{level}a\n---\n{level}b]\n---\nS1[{level}c\n---\n{level}d]]',
    );
    assert.equal(result.supervisorCalls, 3);

    const failing = await startSwarm(t, 3, {
      reply,
      perAgent: (index) => (index === 1 ? { failure: 'status', failureStatus: 503 } : undefined),
    });
    const partial = await treeReduceDetails(failing.pool, '{item}', 'SUP {responses}', {
      items: ['a', 'b', 'c', 'd', 'e', 'f'],
      fanin: 2,
    });
    // Leaves on agent 1 (b, e) fail; level-1 group 1 goes to agent 1 and fails there.
    assert.deepEqual(
      partial.failures.map((failure) => [failure.level, failure.index, failure.cause]),
      [
        [0, 1, 'leaf'],
        [0, 4, 'leaf'],
        [1, 1, 'supervisor'],
      ],
    );
    assert.equal(partial.answer.success, true);
  });

  test('Blackboard: sections by role tag from the hostfile', async (t) => {
    const { pool } = await startSwarm(t, 3, {
      tags: (index) => ({ role: index === 1 ? 'critiques' : 'hypotheses' }),
    });
    const board = new Blackboard({
      sections: ['hypotheses', 'critiques'],
      promptFn: (section, state) => `${section}:${(state.hypotheses ?? []).length}`,
    });
    const result = await board.runDetails(pool, {
      maxRounds: 3,
      convergence: (state) => (state.critiques ?? []).length >= 2,
    });
    assert.equal(result.round, 2);
    assert.equal(result.converged, true);
    assert.deepEqual(result.board.critiques, ['agent-1|critiques:2', 'agent-1|critiques:4']);
    assert.deepEqual(result.board.hypotheses?.slice(0, 2), [
      'agent-0|hypotheses:0',
      'agent-2|hypotheses:0',
    ]);
  });

  test('runPipeline: disjoint stages on real sub-pools; a failing stage stops it', async (t) => {
    const { swarm, pool } = await startSwarm(t, 4, {
      perAgent: (index) => (index === 2 ? { failure: 'malformed' } : undefined),
    });
    const ok = await runPipeline(
      pool,
      [
        { name: 'one', promptTemplate: '1({input})', nAgents: 1 },
        { name: 'two', promptTemplate: '2({input})', nAgents: 1 },
      ],
      'x',
      { reuseAgents: false },
    );
    assert.equal(ok, 'agent-1|2(agent-0|1(x))', 'resolves to the last output itself');
    const brokenStages = [
      { name: 'one', promptTemplate: '1({input})', nAgents: 2 },
      { name: 'broken', promptTemplate: '2({input})', nAgents: 1 },
      { name: 'never', promptTemplate: '3({input})', nAgents: 1 },
    ];
    await assert.rejects(
      runPipeline(pool, brokenStages, 'x', { reuseAgents: false }),
      (error: unknown) => {
        assert.ok(error instanceof PipelineStageError);
        assert.equal(error.code, 'ERR_PIPELINE_STAGE');
        assert.equal(error.stage, 'broken');
        assert.equal(error.responses[0]?.failureKind, 'bad-response');
        return true;
      },
    );
    const stopped = await runPipelineDetails(pool, brokenStages, 'x', { reuseAgents: false });
    assert.equal(stopped.success, false);
    assert.match(stopped.error ?? '', /stage "broken"/);
    assert.equal(swarm.agents[3]?.stats.requests, 0, 'the stage after the broken one never runs');
  });

  test('scatterGatherEmbeddings: input order over an EmbeddingPool', async (t) => {
    const swarm = await startMockSwarm({
      count: 2,
      behavior: { model: 'mock-embedding', embeddingDimensions: 16 },
    });
    const pool = new EmbeddingPool({
      endpoints: swarm.endpoints,
      model: 'mock-embedding',
      proxyUrl: null,
      maxRetries: 0,
    });
    t.after(async () => {
      await pool.close();
      await swarm.close();
    });
    const embeddings = await scatterGatherEmbeddings(pool, ['alpha', 'beta', 'alpha', 'gamma']);
    assert.deepEqual(
      embeddings.map((embedding) => [
        embedding.success,
        embedding.agentIndex,
        embedding.embedding?.length,
      ]),
      [
        [true, 0, 16],
        [true, 1, 16],
        [true, 0, 16],
        [true, 1, 16],
      ],
    );
    assert.deepEqual(embeddings[0]?.embedding, embeddings[2]?.embedding);
    assert.notDeepEqual(embeddings[0]?.embedding, embeddings[1]?.embedding);
  });
});
