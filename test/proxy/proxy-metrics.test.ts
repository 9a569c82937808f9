import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import type { ProxyStatusJson } from '../../src/proxy/status-page/proxy-status.js';
import { open, send, startTestProxy, startUpstream } from './proxy-test-helpers.js';

const SAFETY = { timeout: 30_000 };

/** Parse Prometheus text: `name{labels}` → value (labels as written). */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

async function scrape(proxyUrl: string): Promise<Map<string, number>> {
  const response = await send(proxyUrl, '/metrics');
  assert.equal(response.status, 200);
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(response.text);
}

function value(samples: Map<string, number>, key: string): number {
  const found = samples.get(key);
  assert.notEqual(found, undefined, `${key} missing`);
  return found as number;
}

describe('GET /metrics', () => {
  test('every metric is there, with HELP and TYPE lines', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const text = (await send(proxy.url, '/metrics')).text;
    for (const [name, type] of [
      ['aurora_swarm_proxy_requests_total', 'counter'],
      ['aurora_swarm_proxy_forwarded_requests_total', 'counter'],
      ['aurora_swarm_proxy_in_flight_requests', 'gauge'],
      ['aurora_swarm_proxy_queued_requests', 'gauge'],
      ['aurora_swarm_proxy_connector_limit', 'gauge'],
      ['aurora_swarm_proxy_request_duration_seconds', 'histogram'],
      ['aurora_swarm_proxy_time_to_first_byte_seconds', 'histogram'],
      ['aurora_swarm_proxy_response_bytes_total', 'counter'],
      ['aurora_swarm_proxy_client_disconnects_total', 'counter'],
      ['aurora_swarm_proxy_upstream_timeouts_total', 'counter'],
      ['aurora_swarm_proxy_upstream_errors_total', 'counter'],
      ['aurora_swarm_proxy_retries_total', 'counter'],
      ['aurora_swarm_proxy_no_healthy_agent_total', 'counter'],
      ['aurora_swarm_proxy_health_transitions_total', 'counter'],
      ['aurora_swarm_proxy_health_probes_total', 'counter'],
      ['aurora_swarm_proxy_agents', 'gauge'],
      ['aurora_swarm_proxy_hostfile_reloads_total', 'counter'],
      ['aurora_swarm_proxy_uptime_seconds', 'gauge'],
      ['aurora_swarm_proxy_resident_memory_bytes', 'gauge'],
    ]) {
      assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'), name);
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
    }
    const samples = parseMetrics(text);
    assert.equal(value(samples, 'aurora_swarm_proxy_agents{state="healthy"}'), 2);
    assert.equal(value(samples, 'aurora_swarm_proxy_connector_limit'), 1024);
    assert.equal((await send(proxy.url, '/metrics', { method: 'POST', body: '' })).status, 405);
  });

  test(
    'counters move with the traffic: requests by agent and class, bytes, histograms',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      const before = await scrape(proxy.url);
      assert.equal(
        before.get('aurora_swarm_proxy_requests_total{agent="1",status_class="2xx"}'),
        undefined,
      );

      let bytes = 0;
      for (let request = 0; request < 3; request++) {
        bytes += (await send(proxy.url, '/agent/1/v1/models')).body.length;
      }
      assert.equal((await send(proxy.url, '/agent/0/nope')).status, 404);
      await swarm.agents[0]!.stop();
      assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 502);

      const after = await scrape(proxy.url);
      assert.equal(
        value(after, 'aurora_swarm_proxy_requests_total{agent="1",status_class="2xx"}'),
        3,
      );
      assert.equal(
        value(after, 'aurora_swarm_proxy_requests_total{agent="0",status_class="4xx"}'),
        1,
      );
      assert.equal(
        value(after, 'aurora_swarm_proxy_requests_total{agent="0",status_class="5xx"}'),
        1,
      );
      assert.equal(value(after, 'aurora_swarm_proxy_forwarded_requests_total'), 5);
      assert.equal(value(after, 'aurora_swarm_proxy_upstream_errors_total{kind="connect"}'), 1);
      assert.ok(value(after, 'aurora_swarm_proxy_response_bytes_total') >= bytes);
      assert.equal(value(after, 'aurora_swarm_proxy_request_duration_seconds_count'), 4);
      assert.equal(
        value(after, 'aurora_swarm_proxy_request_duration_seconds_bucket{le="+Inf"}'),
        4,
      );
      assert.equal(value(after, 'aurora_swarm_proxy_time_to_first_byte_seconds_count'), 4);
      const status = JSON.parse((await send(proxy.url, '/status')).text) as ProxyStatusJson;
      assert.equal(status.requests_total, 5);
    },
  );

  test(
    'in flight, queue depth at the connector limit, client disconnects and timeouts by kind',
    SAFETY,
    async (t) => {
      const held: ServerResponse[] = [];
      const upstream = await startUpstream(t, (request, response) => {
        if (request.url === '/silent-body') {
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.write('partial');
          return;
        }
        held.push(response);
      });
      const proxy = await startTestProxy(t, [upstream.endpoint], { connectorLimit: 1 });
      const first = open(proxy.url, '/agent/0/held');
      const second = open(proxy.url, '/agent/0/queued');
      // Both are cut by the client below.
      const firstDone = first.response.catch(() => undefined);
      const secondDone = second.response.catch(() => undefined);
      const busy = async () => {
        for (;;) {
          const samples = await scrape(proxy.url);
          if (samples.get('aurora_swarm_proxy_queued_requests') === 1) return samples;
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const during = await busy();
      assert.equal(value(during, 'aurora_swarm_proxy_in_flight_requests'), 1);
      // The queued client leaves first (it leaves the queue without a status), then
      // the one in flight (its status class is "none").
      second.request.destroy();
      await secondDone;
      for (;;) {
        const samples = await scrape(proxy.url);
        if (samples.get('aurora_swarm_proxy_queued_requests') === 0) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      first.request.destroy();
      await firstDone;
      for (;;) {
        const samples = await scrape(proxy.url);
        // The slot comes back once the aborted upstream request is wound up.
        if (
          samples.get('aurora_swarm_proxy_client_disconnects_total') === 2 &&
          samples.get('aurora_swarm_proxy_in_flight_requests') === 0
        ) {
          assert.equal(value(samples, 'aurora_swarm_proxy_queued_requests'), 0);
          assert.equal(
            value(samples, 'aurora_swarm_proxy_requests_total{agent="0",status_class="none"}'),
            1,
          );
          break;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }

      const headers = await send(proxy.url, '/agent/0/held', { headers: [['X-Timeout', '0.1']] });
      assert.equal(headers.status, 504);
      const cut = open(proxy.url, '/agent/0/silent-body', { headers: [['X-Timeout', '0.1']] });
      const cutResponse = await cut.response;
      cutResponse.on('error', () => undefined);
      cutResponse.resume();
      await new Promise((resolve) => cutResponse.once('close', resolve));
      const samples = await scrape(proxy.url);
      assert.equal(value(samples, 'aurora_swarm_proxy_upstream_timeouts_total{kind="headers"}'), 1);
      assert.equal(value(samples, 'aurora_swarm_proxy_upstream_timeouts_total{kind="body"}'), 1);
      for (const response of held) response.destroy();
    },
  );

  test('metricsAgentLabel: false counts by status class only', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { metricsAgentLabel: false });
    await send(proxy.url, '/agent/0/v1/models');
    await send(proxy.url, '/agent/1/v1/models');
    const text = (await send(proxy.url, '/metrics')).text;
    assert.doesNotMatch(text, /agent="/);
    assert.equal(
      value(parseMetrics(text), 'aurora_swarm_proxy_requests_total{status_class="2xx"}'),
      2,
    );
  });

  test('two proxies in one process keep separate registries', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const first = await startTestProxy(t, swarm.endpoints);
    const second = await startTestProxy(t, swarm.endpoints);
    await send(first.url, '/agent/0/v1/models');
    assert.equal(value(await scrape(first.url), 'aurora_swarm_proxy_forwarded_requests_total'), 1);
    assert.equal(value(await scrape(second.url), 'aurora_swarm_proxy_forwarded_requests_total'), 0);
  });
});
