/**
 * `/status?view=compact`: the status page's form of `/status`, against the real proxy
 * and simulated agents. A client model (the same merge the page does) applied to
 * every answer must always equal what the full `/status` says, whatever other
 * clients polled in between and whatever reloads happened.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { AgentEndpoint } from '../../../src/hostfile/agent-endpoint.js';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import type {
  CompactHostJson,
  CompactRow,
  CompactStatusJson,
} from '../../../src/proxy/status-page/compact-status.js';
import type { ProxyStatusJson } from '../../../src/proxy/status-page/proxy-status.js';
import { parseStatusQuery } from '../../../src/proxy/status-page/status-route.js';
import { open, send, startTestProxy } from '../proxy-test-helpers.js';

async function compact(proxyUrl: string, query = ''): Promise<CompactStatusJson> {
  const response = await send(proxyUrl, `/status?view=compact${query}`);
  assert.equal(response.status, 200, response.text);
  return JSON.parse(response.text) as CompactStatusJson;
}

async function full(proxyUrl: string): Promise<ProxyStatusJson> {
  return JSON.parse((await send(proxyUrl, '/status')).text) as ProxyStatusJson;
}

/** What a client knows after applying compact answers, as the status page does. */
class CompactClient {
  version: string | undefined;
  hosts: CompactHostJson[] = [];
  rows: CompactRow[] = [];
  fullAnswers = 0;

  constructor(readonly proxyUrl: string) {}

  async poll(): Promise<CompactStatusJson> {
    const since = this.version === undefined ? '' : `&since=${this.version}`;
    const answer = await compact(this.proxyUrl, since);
    if (answer.full) {
      this.fullAnswers++;
      this.hosts = answer.hosts ?? [];
      this.rows = [];
    } else {
      assert.equal(answer.hosts, undefined, 'hosts only in a full answer');
    }
    for (const row of answer.rows) this.rows[row[0]] = row;
    this.version = answer.version;
    return answer;
  }

  /** The rows the full `/status` implies, for comparison. */
  static expected(status: ProxyStatusJson): { hosts: CompactHostJson[]; rows: CompactRow[] } {
    return {
      hosts: status.endpoints.map(({ host, port, tags }) => ({ host, port, tags })),
      rows: status.endpoints.map(
        (endpoint): CompactRow =>
          endpoint.healthy
            ? [endpoint.index, 1, endpoint.in_flight, endpoint.errors]
            : [endpoint.index, 0, endpoint.in_flight, endpoint.errors, endpoint.last_error],
      ),
    };
  }

  async assertUpToDate(): Promise<void> {
    const status = await full(this.proxyUrl);
    assert.deepEqual({ hosts: this.hosts, rows: this.rows }, CompactClient.expected(status));
  }
}

async function startSwarmAndProxy(t: TestContext, count: number) {
  const swarm = await startMockSwarm({ count });
  t.after(() => swarm.close());
  // Health checks on but no round during the test: one refused request marks an agent down.
  const proxy = await startTestProxy(t, swarm.endpoints, {
    healthIntervalSeconds: 3600,
    unhealthyThreshold: 1,
  });
  return { swarm, proxy };
}

describe('parseStatusQuery', () => {
  test('no query, or one that is not ours: the full body', () => {
    assert.deepEqual(parseStatusQuery('/status'), { view: 'full' });
    assert.deepEqual(parseStatusQuery('/status?'), { view: 'full' });
    assert.deepEqual(parseStatusQuery('/status?_=1712345&pretty'), { view: 'full' });
    assert.deepEqual(parseStatusQuery('/status?view=full'), { view: 'full' });
  });

  test('the compact view, with since and agent', () => {
    assert.deepEqual(parseStatusQuery('/status?view=compact'), {
      view: 'compact',
      since: undefined,
      agent: undefined,
    });
    assert.deepEqual(parseStatusQuery('/status?view=compact&since=ab12-7&agent=42'), {
      view: 'compact',
      since: 'ab12-7',
      agent: 42,
    });
    // Any since is accepted: one that is not a current version gets a full answer.
    assert.deepEqual(parseStatusQuery('/status?view=compact&since=%20x'), {
      view: 'compact',
      since: ' x',
      agent: undefined,
    });
  });

  test('bad values of ours are invalid, with a message saying what is expected', () => {
    assert.deepEqual(parseStatusQuery('/status?view=tiny'), {
      view: 'invalid',
      message: 'unknown view "tiny" on /status: use view=compact, or no view for the full body',
    });
    assert.deepEqual(parseStatusQuery('/status?since=ab12-7'), {
      view: 'invalid',
      message: 'since= on /status needs view=compact',
    });
    assert.deepEqual(parseStatusQuery('/status?agent=1'), {
      view: 'invalid',
      message: 'agent= on /status needs view=compact',
    });
    for (const agent of ['-1', '1.5', 'x', '', '1e3', '0x1']) {
      const query = parseStatusQuery(`/status?view=compact&agent=${agent}`);
      assert.equal(query.view, 'invalid', agent);
    }
  });
});

describe('GET /status?view=compact', () => {
  test('the first answer is full: totals as /status, hosts as /hosts, a row per agent', async (t) => {
    const { proxy } = await startSwarmAndProxy(t, 3);
    const answer = await compact(proxy.url);
    const status = await full(proxy.url);
    assert.equal(answer.view, 'compact');
    assert.equal(answer.full, true);
    assert.match(answer.version, /^[0-9a-f]{8}-\d+$/);
    assert.deepEqual(answer.columns, ['index', 'healthy', 'in_flight', 'errors', 'last_error']);
    const { endpoints: _, uptime_seconds: __, ...totals } = status;
    const {
      view: _view,
      version: _version,
      full: _full,
      hosts,
      columns: _columns,
      rows,
      uptime_seconds,
      ...compactTotals
    } = answer;
    assert.deepEqual(compactTotals, totals);
    assert.equal(typeof uptime_seconds, 'number');
    assert.deepEqual({ hosts }, JSON.parse((await send(proxy.url, '/hosts')).text));
    assert.deepEqual(rows, [
      [0, 1, 0, 0],
      [1, 1, 0, 0],
      [2, 1, 0, 0],
    ]);
  });

  test('with since: only the rows that changed, with their current values', async (t) => {
    const { swarm, proxy } = await startSwarmAndProxy(t, 3);
    const client = new CompactClient(proxy.url);
    await client.poll();
    const idle = await client.poll();
    assert.equal(idle.full, false);
    assert.deepEqual(idle.rows, []);

    // Requests that came and went leave no row: the page shows requests in flight.
    assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 200);
    const before = client.version;
    assert.deepEqual((await client.poll()).rows, []);
    assert.equal(client.version, before, 'nothing changed, the version stays');

    // A request held by agent 1 is in flight.
    swarm.agents[1]?.setBehavior({ failure: 'hang' });
    const arrived = swarm.agents[1]!.nextRequest();
    const held = open(proxy.url, '/agent/1/v1/models');
    held.response.catch(() => undefined);
    await arrived;
    t.after(() => held.request.destroy());
    // Later requests (the health probes below) are answered again.
    swarm.agents[1]?.setBehavior({ failure: 'none' });
    assert.deepEqual((await client.poll()).rows, [[1, 1, 1, 0]]);
    assert.notEqual(client.version, before);
    await client.assertUpToDate();

    // Agent 2 stops: its error, then its health, and the last error of an unhealthy agent.
    await swarm.agents[2]?.stop();
    assert.equal((await send(proxy.url, '/agent/2/v1/models')).status, 502);
    const down = await client.poll();
    assert.equal(down.healthy_agents, 2);
    const row = down.rows.find((entry) => entry[0] === 2);
    assert.ok(row !== undefined && row[1] === 0 && row[3] === 1, JSON.stringify(down.rows));
    assert.match(String(row[4]), /127\.0\.0\.1/);
    await client.assertUpToDate();

    // Its probe failing again with the same message is no change.
    await proxy.checkHealth();
    await client.poll();
    await client.assertUpToDate();
    const settled = client.version;
    await proxy.checkHealth();
    assert.deepEqual((await client.poll()).rows, []);
    assert.equal(client.version, settled);
    assert.equal(client.fullAnswers, 1);
  });

  test('clients that poll at different times each get every change since their version', async (t) => {
    const { swarm, proxy } = await startSwarmAndProxy(t, 4);
    const early = new CompactClient(proxy.url);
    const busy = new CompactClient(proxy.url);
    await early.poll();
    await busy.poll();
    await swarm.agents[3]?.stop();
    assert.equal((await send(proxy.url, '/agent/3/v1/models')).status, 502);
    await busy.poll();
    await busy.poll();
    assert.equal((await busy.poll()).rows.length, 0);
    const late = await early.poll();
    assert.equal(late.full, false);
    assert.equal(late.rows.length, 1);
    await early.assertUpToDate();
    await busy.assertUpToDate();
  });

  test('a version not issued by this proxy (restart, another worker, garbage) gets a full answer', async (t) => {
    const { proxy } = await startSwarmAndProxy(t, 2);
    const first = await compact(proxy.url);
    const [epoch, number] = first.version.split('-') as [string, string];
    const other = epoch === '00000000' ? '11111111' : '00000000';
    for (const since of [
      `${other}-${number}`,
      `${epoch}-${Number(number) + 1}`,
      `${epoch}-x`,
      `${epoch}-`,
      'garbage',
      '',
    ]) {
      const answer = await compact(proxy.url, `&since=${encodeURIComponent(since)}`);
      assert.equal(answer.full, true, since);
      assert.equal(answer.rows.length, 2, since);
      assert.equal(answer.hosts?.length, 2, since);
    }
    assert.equal((await compact(proxy.url, `&since=${first.version}`)).full, false);
  });

  test('a hostfile reload changes the version and sends the new list whole', async (t) => {
    const { swarm, proxy } = await startSwarmAndProxy(t, 4);
    const client = new CompactClient(proxy.url);
    await client.poll();
    const [a, b, c, d] = swarm.endpoints as [
      AgentEndpoint,
      AgentEndpoint,
      AgentEndpoint,
      AgentEndpoint,
    ];
    const lists: AgentEndpoint[][] = [[d, a], [a, b, c, d], [b, a, c, d], [c]];
    for (const list of lists) {
      const before = client.version;
      await proxy.reload(list);
      // Another client polling first must not hide the change from this one.
      await new CompactClient(proxy.url).poll();
      const answer = await client.poll();
      assert.notEqual(answer.version, before);
      assert.equal(answer.full, true);
      assert.equal(answer.agents, list.length);
      assert.deepEqual(
        answer.hosts?.map(({ port }) => port),
        list.map(({ port }) => port),
      );
      await client.assertUpToDate();
      const status = await full(proxy.url);
      assert.equal(status.agents, list.length);
      assert.deepEqual(
        status.endpoints.map(({ index, port }) => [index, port]),
        list.map(({ port }, index) => [index, port]),
      );
    }
  });

  test('/status stays consistent while reloads and polls interleave', async (t) => {
    const { swarm, proxy } = await startSwarmAndProxy(t, 6);
    const endpoints = swarm.endpoints;
    const clients = [new CompactClient(proxy.url), new CompactClient(proxy.url)];
    // Reloads issued while polls of both forms are on the wire.
    for (let round = 0; round < 20; round++) {
      const list = endpoints.slice(round % 3, 3 + ((round * 5) % 4));
      const polls = [
        ...clients.map((client) => client.poll()),
        full(proxy.url),
        proxy.reload(list),
        ...clients.map((client) => client.poll()),
        full(proxy.url),
      ];
      const results = await Promise.all(polls);
      for (const result of results) {
        if (!result || typeof result !== 'object' || !('endpoints' in result)) continue;
        assert.equal(result.endpoints.length, result.agents);
        for (const [index, endpoint] of result.endpoints.entries()) {
          assert.equal(endpoint.index, index);
        }
      }
      for (const client of clients) {
        await client.poll();
        await client.assertUpToDate();
      }
    }
  });

  test("agent=<index>: that agent's full entry in detail; past the end, null", async (t) => {
    const { proxy } = await startSwarmAndProxy(t, 2);
    assert.equal((await send(proxy.url, '/agent/1/v1/models')).status, 200);
    const answer = await compact(proxy.url, '&agent=1');
    const status = await full(proxy.url);
    assert.deepEqual(answer.detail, status.endpoints[1]);
    assert.equal(answer.detail?.requests, 1);
    assert.equal((await compact(proxy.url, '&agent=2')).detail, null);
    assert.equal('detail' in (await compact(proxy.url)), false);
  });

  test('bad query values are 400 with the message; the full body ignores other parameters', async (t) => {
    const { proxy } = await startSwarmAndProxy(t, 1);
    for (const [path, message] of [
      [
        '/status?view=tiny',
        'unknown view "tiny" on /status: use view=compact, or no view for the full body',
      ],
      ['/status?since=1', 'since= on /status needs view=compact'],
      [
        '/status?view=compact&agent=one',
        'agent="one" on /status: expected an agent index (0, 1, 2...)',
      ],
    ] as const) {
      const response = await send(proxy.url, path);
      assert.equal(response.status, 400, path);
      assert.deepEqual(JSON.parse(response.text), { error: message });
    }
    const cacheBusted = JSON.parse(
      (await send(proxy.url, '/status?_=123')).text,
    ) as ProxyStatusJson;
    assert.equal(cacheBusted.endpoints.length, 1);
    const head = await send(proxy.url, '/status?view=compact', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });
});
