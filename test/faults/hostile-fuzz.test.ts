import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { routeRequest } from '../../src/proxy/route-request.js';
import { send, startTestProxy } from '../proxy/proxy-test-helpers.js';
import { rawExchange, startCanary } from './fault-helpers.js';

const AGENT_COUNT = 3;

test('fuzzed request lines and header sets: the proxy survives, only hostfile agents are reached, at the routed path', {
  timeout: 60_000,
}, async (t) => {
  const swarm = await startMockSwarm({ count: AGENT_COUNT });
  t.after(() => swarm.close());
  const canary = await startCanary(t);
  const proxy = await startTestProxy(t, swarm.endpoints, {
    timeoutSeconds: 0.5,
    headersTimeoutSeconds: 0.25,
    bodyIdleTimeoutSeconds: 0.25,
    maxBodySizeBytes: 256,
  });
  const evil = `127.0.0.1:${canary.port}`;

  // Pieces that change meaning in request targets and heads, weighted towards the
  // ones attackers use.
  const targetPiece = fc.constantFrom(
    '/agent/',
    '/agent',
    '0',
    '1',
    '2',
    '3',
    '00',
    '-1',
    '1e3',
    '0x1',
    '%30',
    '%2f',
    '%2F',
    '..',
    '.',
    '/',
    '//',
    '@',
    ':',
    '?',
    '#',
    '&',
    '=',
    evil,
    'http://',
    'evil.example',
    'v1/models',
    'generate',
    '%00',
    '\xff',
    '*',
    '\\',
  );
  const tail = fc.array(targetPiece, { maxLength: 6 }).map((parts) => parts.join(''));
  // Half the targets start like a real agent route, so that forwarding is exercised too.
  const target = fc.oneof(
    fc
      .tuple(fc.constantFrom('/agent/0/', '/agent/1', '/agent/2/', '/agent/00/'), tail)
      .map(([prefix, rest]) => prefix + rest),
    fc.array(targetPiece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')),
  );
  const method = fc.constantFrom(
    'GET',
    'POST',
    'HEAD',
    'PUT',
    'DELETE',
    'OPTIONS',
    'CONNECT',
    'TRACE',
    'PATCH',
    'G ET',
    'get',
  );
  const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', '');
  const header = fc.constantFrom(
    ['Host', evil],
    ['Host', 'evil.example'],
    ['Host', ''],
    ['Content-Length', '0'],
    ['Content-Length', '5'],
    ['Content-Length', '5, 5'],
    ['Content-Length', '-1'],
    ['Content-Length', '999999999999'],
    ['Transfer-Encoding', 'chunked'],
    ['Transfer-Encoding', 'xchunked'],
    ['Transfer-Encoding', 'chunked, identity'],
    ['Transfer-Encoding', ' chunked'],
    ['X-Timeout', '0.3'],
    ['X-Timeout', 'NaN'],
    ['X-Timeout', '-1'],
    ['X-Timeout', '1e309'],
    ['Connection', 'close'],
    ['Connection', 'Upgrade, Host'],
    ['Upgrade', 'websocket'],
    ['Expect', '100-continue'],
    ['Proxy-Authorization', 'Bearer x'],
    ['X-Forwarded-Host', evil],
    ['Forwarded', `for=1;host=${evil}`],
    ['X-A', 'b\x00c'],
    ['X A', 'b'],
    ['', 'empty-name'],
  );
  const request = fc.record({
    method,
    target,
    version,
    headers: fc.array(header, { maxLength: 6 }),
    lineEnd: fc.constantFrom('\r\n', '\r\n', '\r\n', '\n'),
    body: fc.constantFrom('', 'hello', '5\r\nhello\r\n0\r\n\r\n', '{"prompt":"x"}'),
  });

  // Printed first, so that a run that fails or hangs can be replayed: FUZZ_SEED=<seed>.
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`FUZZ_SEED=${seed}`);
  const expectedPaths = new Set<string>();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(request, async (generated) => {
      runs++;
      const { lineEnd } = generated;
      // The proxy may route only what Node accepts; whatever it routes must be a hostfile agent.
      const route = routeRequest(generated.target, AGENT_COUNT);
      if (route.kind === 'agent') expectedPaths.add(`${route.index} ${route.path}`);
      const head =
        `${generated.method} ${generated.target} ${generated.version}`.trimEnd() +
        lineEnd +
        generated.headers.map(([name, value]) => `${name}: ${value}${lineEnd}`).join('') +
        lineEnd;
      const answer = await rawExchange(proxy.port, head + generated.body);
      if (answer.status !== undefined) {
        assert.ok(answer.status >= 100 && answer.status <= 599, answer.text);
      }
      assert.equal(canary.connections(), 0, 'the canary was contacted');
    }),
    {
      // A fixed number of runs, not a time budget: many cases wait out a 0.25 s limit,
      // and a loaded machine must not shrink the sample below the assertion.
      numRuns: 60,
      seed,
      // Every case is bounded by the proxy's 0.5 s limits: one that takes 10 s is a hang,
      // reported with its request and the seed instead of timing out the whole test.
      // (No shrinking: each shrunk case that hangs would take another 10 s.)
      timeout: 10_000,
      endOnFailure: true,
    },
  );
  assert.ok(runs >= 20, `only ${runs} runs`);
  t.diagnostic(`${runs} fuzzed requests, ${expectedPaths.size} distinct routed paths`);
  // Every request an agent received was one the router sends there, at that path.
  for (const agent of swarm.agents) {
    for (const received of agent.requests) {
      assert.ok(
        expectedPaths.has(`${agent.index} ${received.url}`),
        `agent ${agent.index} got ${JSON.stringify(received.url)}`,
      );
      assert.equal(received.headers.host, `127.0.0.1:${agent.port}`);
    }
  }
  assert.equal((await send(proxy.url, '/health')).status, 200, 'the proxy is alive');
  const alive = await send(proxy.url, '/agent/0/v1/models', { headers: [['X-Timeout', '30']] });
  assert.equal(alive.status, 200);
  assert.equal(canary.connections(), 0);
});
