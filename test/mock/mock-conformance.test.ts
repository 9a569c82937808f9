/**
 * The simulated agents give vLLM's own answers: every fixture of test/fixtures/vllm/ that
 * names a scenario is replayed against a simulated agent, which must answer with the same
 * status and (errors) the same body, or (successes and streams) the same structure. The
 * client is tested against the same fixtures on an independent server
 * (test/pool/vllm-conformance.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { loadVllmFixtures, shapeOf } from '../fixtures/vllm-fixtures.js';

function streamEvents(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => {
      const data = block.slice(6);
      return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
    });
}

describe('simulated agents answer like the vLLM fixtures', () => {
  const fixtures = loadVllmFixtures();

  test('most fixtures can be replayed on a simulated agent', () => {
    const replayed = fixtures.filter((fixture) => fixture.scenario !== null);
    assert.ok(replayed.length >= fixtures.length - 2, `${replayed.length} of ${fixtures.length}`);
  });

  for (const fixture of fixtures) {
    const scenario = fixture.scenario;
    if (scenario === null) continue;
    test(`${fixture.name}: ${fixture.description}`, async (t) => {
      const swarm = await startMockSwarm({ count: 1, behavior: scenario.mock });
      t.after(() => swarm.close());
      const method = scenario.method ?? 'POST';
      const response = await fetch(`${swarm.agents[0]!.url}${scenario.path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify(scenario.request) } : {}),
      });
      const expected = fixture.response;
      assert.equal(response.status, expected.status);
      const text = await response.text();
      if ('events' in expected) {
        const events = streamEvents(text);
        assert.deepEqual(events.at(-1), '[DONE]');
        assert.deepEqual(events.at(-2), expected.events.at(-2), 'the in-band error event');
        assert.deepEqual(shapeOf(events[0]), shapeOf(expected.events[0]), 'the role chunk');
        assert.deepEqual(shapeOf(events[1]), shapeOf(expected.events[1]), 'a token chunk');
        return;
      }
      const body = JSON.parse(text) as unknown;
      if (expected.status >= 400) assert.deepEqual(body, expected.body);
      else assert.deepEqual(shapeOf(body), shapeOf(expected.body));
    });
  }
});
