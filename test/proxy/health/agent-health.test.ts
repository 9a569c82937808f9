import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import type { ProxyStatusJson } from '../../../src/proxy/status-page/proxy-status.js';
import { send, startTestProxy, startUpstream } from '../proxy-test-helpers.js';

const SAFETY = { timeout: 30_000 };
// Rounds are driven by checkHealth(); the background interval never fires during a test.
const MANUAL_ROUNDS = { healthIntervalSeconds: 3600 };
const FIRST_ROUND = /Health check: \d+ of \d+ agent\(s\) healthy/;

async function status(proxyUrl: string): Promise<ProxyStatusJson> {
  return JSON.parse((await send(proxyUrl, '/status')).text) as ProxyStatusJson;
}

async function pooledAgentIndex(proxyUrl: string): Promise<string | undefined> {
  const response = await send(proxyUrl, '/v1/models');
  assert.equal(response.status, 200);
  return response.headers['x-agent-index'] as string | undefined;
}

describe('agent health', () => {
  test(
    'probes take a stopped agent out after the threshold and bring it back (half-open)',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 3 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints, {
        ...MANUAL_ROUNDS,
        unhealthyThreshold: 2,
        healthyThreshold: 2,
      });
      await proxy.checkHealth();
      assert.equal((await status(proxy.url)).healthy_agents, 3);

      await swarm.agents[1]!.stop();
      await proxy.checkHealth();
      let current = await status(proxy.url);
      assert.equal(current.endpoints[1]?.healthy, true, 'one failure is below the threshold');
      assert.match(current.endpoints[1]?.last_error ?? '', /^health probe: .*ECONNREFUSED/);
      assert.ok(!Number.isNaN(Date.parse(current.endpoints[1]?.last_error_at ?? '')));

      await proxy.checkHealth();
      current = await status(proxy.url);
      assert.equal(current.endpoints[1]?.healthy, false);
      assert.equal(current.healthy_agents, 2);
      assert.ok(
        proxy.logLines.some((line) =>
          line.includes(
            `[WARNING] aurora_swarm.proxy: Agent 1 (127.0.0.1:${swarm.agents[1]!.port}) is unhealthy: 2 failure(s) in a row`,
          ),
        ),
      );
      for (let request = 0; request < 10; request++) {
        assert.notEqual(
          await pooledAgentIndex(proxy.url),
          '1',
          '/v1 never picks an unhealthy agent',
        );
      }
      assert.deepEqual(JSON.parse((await send(proxy.url, '/health')).text), { status: 'ok' });

      await swarm.agents[1]!.start();
      await proxy.checkHealth();
      assert.equal(
        (await status(proxy.url)).endpoints[1]?.healthy,
        false,
        'one success is below --healthy-threshold 2',
      );
      await proxy.checkHealth();
      assert.equal((await status(proxy.url)).endpoints[1]?.healthy, true);
      assert.ok(
        proxy.logLines.some(
          (line) =>
            line.includes('[INFO] aurora_swarm.proxy: Agent 1 (') &&
            line.endsWith('is healthy again\n'),
        ),
      );
      const metrics = (await send(proxy.url, '/metrics')).text;
      assert.match(metrics, /^aurora_swarm_proxy_health_transitions_total\{to="unhealthy"\} 1$/m);
      assert.match(metrics, /^aurora_swarm_proxy_health_transitions_total\{to="healthy"\} 1$/m);
    },
  );

  test('an agent that is down at startup is out after its first probe', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    await swarm.agents[0]!.stop();
    const proxy = await startTestProxy(t, swarm.endpoints, {
      ...MANUAL_ROUNDS,
      unhealthyThreshold: 5,
    });
    const summary = await proxy.waitForLog(FIRST_ROUND);
    assert.match(summary, /Health check: 1 of 2 agent\(s\) healthy/);
    assert.ok(
      proxy.logLines.some((line) =>
        /Agent 0 .* is unhealthy: its first health probe failed/.test(line),
      ),
    );
    const current = await status(proxy.url);
    assert.deepEqual(
      current.endpoints.map((endpoint) => endpoint.healthy),
      [false, true],
    );
    assert.equal(await pooledAgentIndex(proxy.url), '1');
  });

  test(
    'connection failures of real requests count towards unhealthy; only a probe readmits',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints, {
        ...MANUAL_ROUNDS,
        unhealthyThreshold: 2,
      });
      await proxy.waitForLog(FIRST_ROUND);
      await swarm.agents[0]!.stop();
      assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 502);
      assert.equal((await status(proxy.url)).endpoints[0]?.healthy, true);
      assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 502);
      const current = await status(proxy.url);
      assert.equal(current.endpoints[0]?.healthy, false);
      assert.equal(current.endpoints[0]?.errors, 2);
      assert.equal(
        current.endpoints[0]?.last_error,
        `cannot connect to 127.0.0.1:${swarm.agents[0]!.port}`,
      );
      assert.ok(
        proxy.logLines.some((line) =>
          /Agent 0 .* is unhealthy: 2 connection failure\(s\) in a row/.test(line),
        ),
      );

      await swarm.agents[0]!.start();
      // /agent/{index} still forwards to an unhealthy agent: the index was asked for.
      assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 200);
      assert.equal((await status(proxy.url)).endpoints[0]?.healthy, false);
      await proxy.checkHealth();
      assert.equal((await status(proxy.url)).endpoints[0]?.healthy, true);
    },
  );

  test(
    'a non-2xx /health is a failure; the agent still serves /agent/{index} but not /v1',
    SAFETY,
    async (t) => {
      const sick = await startUpstream(t, (request, response) => {
        response.writeHead(request.url === '/health' ? 503 : 200, {
          'content-type': 'application/json',
        });
        response.end('{"sick":true}');
      });
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, [sick.endpoint, ...swarm.endpoints], MANUAL_ROUNDS);
      await proxy.checkHealth();
      const current = await status(proxy.url);
      assert.equal(current.endpoints[0]?.healthy, false);
      assert.equal(current.endpoints[0]?.last_error, 'health probe: GET /health answered 503');
      const direct = await send(proxy.url, '/agent/0/anything');
      assert.equal(direct.status, 200);
      assert.equal(direct.text, '{"sick":true}');
      assert.equal(await pooledAgentIndex(proxy.url), '1');
    },
  );

  test('a probe that gets no answer fails after --health-timeout', SAFETY, async (t) => {
    const held: ServerResponse[] = [];
    const silent = await startUpstream(t, (_request, response) => held.push(response));
    const proxy = await startTestProxy(t, [silent.endpoint], {
      ...MANUAL_ROUNDS,
      healthTimeoutSeconds: 0.2,
    });
    await proxy.waitForLog(FIRST_ROUND);
    const current = await status(proxy.url);
    assert.equal(current.endpoints[0]?.healthy, false);
    assert.equal(current.endpoints[0]?.last_error, 'health probe: no answer within 0.2s');
  });

  test(
    'probes run at most --health-concurrency at a time, and every agent is probed',
    SAFETY,
    async (t) => {
      const limit = 2;
      const held: ServerResponse[] = [];
      let outstanding = 0;
      let maxOutstanding = 0;
      let arrived = 0;
      const count = 5;
      const release = () => {
        for (const response of held.splice(0)) response.end('ok');
      };
      const upstreams = [];
      for (let index = 0; index < count; index++) {
        upstreams.push(
          await startUpstream(t, (_request, response) => {
            outstanding++;
            arrived++;
            maxOutstanding = Math.max(maxOutstanding, outstanding);
            response.on('close', () => outstanding--);
            held.push(response);
            // Hold the probes until the limit is reached (or nothing else can come).
            if (held.length >= limit || arrived === count) release();
          }),
        );
      }
      const proxy = await startTestProxy(
        t,
        upstreams.map((upstream) => upstream.endpoint),
        { ...MANUAL_ROUNDS, healthConcurrency: limit },
      );
      await proxy.waitForLog(FIRST_ROUND);
      assert.equal(arrived, count);
      assert.equal(maxOutstanding, limit);
      assert.equal((await status(proxy.url)).healthy_agents, count);
    },
  );

  test(
    '--health-interval 0 turns probing off: no probes; connection failures still take an agent out of /v1',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints, {
        healthIntervalSeconds: 0,
        unhealthyThreshold: 1,
      });
      await swarm.agents[0]!.stop();
      assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 502);
      await proxy.checkHealth();
      const current = await status(proxy.url);
      assert.equal(current.health_checks, false);
      assert.deepEqual(
        current.endpoints.map((endpoint) => endpoint.healthy),
        [false, true],
      );
      assert.equal(swarm.agents[1]!.stats.requests, 0, 'nobody probed agent 1');
    },
  );
});
