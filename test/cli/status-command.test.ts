/** `aurora-swarm status` against the proxy in-process, and the generic table. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { cliStyle } from '../../src/cli/cli-style.js';
import { formatLocalTime, formatStatus } from '../../src/cli/commands/status-command.js';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { startTestProxy } from '../proxy/proxy-test-helpers.js';
import { scriptedIo } from './cli-test-helpers.js';

describe('aurora-swarm status', { concurrency: true }, () => {
  test('a table with index, host, port, tags and the counters', async (t) => {
    const swarm = await startMockSwarm({
      count: 2,
      tags: (index) => ({ role: index === 0 ? 'a' : 'b' }),
    });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const run = scriptedIo();
    assert.equal(await runAuroraSwarm(['status', '--proxy', proxy.url], run.io), 0);
    const lines = run.stdout().trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^proxy http:\/\/127\.0\.0\.1:\d+: 2 agent\(s\) .*up \d+s/);
    assert.match(
      lines[2] ?? '',
      /^index\s+host\s+port\s+tags\s+healthy\s+busy\s+reqs\s+errs\s+p50ms\s+last error$/,
    );
    assert.match(
      lines[3] ?? '',
      new RegExp(
        `^0\\s+127\\.0\\.0\\.1\\s+${swarm.agents[0]?.port}\\s+role=a\\s+yes\\s+0\\s+0\\s+0`,
      ),
    );
    assert.match(lines[4] ?? '', /^1\s+127\.0\.0\.1\s+\d+\s+role=b/);
    assert.ok(!run.stdout().includes(String.fromCharCode(27)), 'no colour when not a terminal');

    const json = scriptedIo({ AURORA_SWARM_PROXY_URL: proxy.url });
    assert.equal(await runAuroraSwarm(['status', '--json'], json.io), 0);
    assert.equal((JSON.parse(json.stdout()) as { agents: number }).agents, 2);
  });

  test('401 and an unreachable proxy are one clear line, exit 1', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { token: 'secret' });
    const denied = scriptedIo();
    assert.equal(await runAuroraSwarm(['status', '--proxy', proxy.url], denied.io), 1);
    assert.deepEqual(denied.stderrLines(), [
      `aurora-swarm status: error: the proxy at ${proxy.url} answered 401: it requires a token (pass --token or --token-file, or set AURORA_SWARM_PROXY_TOKEN)`,
    ]);
    const wrong = scriptedIo({ AURORA_SWARM_PROXY_TOKEN: 'nope' });
    assert.equal(await runAuroraSwarm(['status', '--proxy', proxy.url], wrong.io), 1);
    assert.match(wrong.stderr(), /401: wrong token/);
    const allowed = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['status', '--proxy', proxy.url, '--token', 'secret'], allowed.io),
      0,
    );

    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as { port: number }).port;
    closed.close();
    await once(closed, 'close');
    const unreachable = scriptedIo();
    assert.equal(
      await runAuroraSwarm(['status', '--proxy', `http://127.0.0.1:${port}`], unreachable.io),
      1,
    );
    assert.deepEqual(unreachable.stderrLines(), [
      `aurora-swarm status: error: cannot reach the proxy at http://127.0.0.1:${port}: connection refused (is it running? is the SSH tunnel up?)`,
    ]);
    // Any port is tried, also those fetch refuses for browsers (1, 6000, 6666, 10080, ...):
    // nothing listens on port 1, and the answer says so instead of "bad port".
    const blocked = scriptedIo();
    assert.equal(await runAuroraSwarm(['status', '--proxy', 'http://127.0.0.1:1'], blocked.io), 1);
    assert.deepEqual(blocked.stderrLines(), [
      'aurora-swarm status: error: cannot reach the proxy at http://127.0.0.1:1: connection refused (is it running? is the SSH tunnel up?)',
    ]);
    const missing = scriptedIo();
    assert.equal(await runAuroraSwarm(['status'], missing.io), 2);
    assert.match(missing.stderr(), /no proxy: pass --proxy URL or set AURORA_SWARM_PROXY_URL/);
  });

  test('renders whatever fields the proxy reports: health, nested percentiles, errors', () => {
    const status = {
      agents: 2,
      uptime_seconds: 125.5,
      endpoints: [
        {
          index: 0,
          host: 'compute-001',
          port: 8000,
          tags: { role: 'worker' },
          healthy: true,
          in_flight: 3,
          latency_ms: { p50: 12.25, p99: 80 },
          last_error: null,
        },
        {
          index: 1,
          host: 'compute-002',
          port: 8000,
          tags: {},
          healthy: false,
          in_flight: 0,
          latency_ms: { p50: 0, p99: 0 },
          last_error: 'connect ECONNREFUSED 10.0.0.2:8000',
        },
      ],
    };
    const plain = formatStatus('http://x', status, cliStyle(scriptedIo().io, 'stdout'), {
      wide: true,
    });
    const lines = plain.trimEnd().split('\n');
    assert.equal(lines[0], 'proxy http://x: agents 2, up 2m06s');
    assert.match(
      lines[2] ?? '',
      /^index\s+host\s+port\s+tags\s+healthy\s+in_flight\s+latency_ms\.p50\s+latency_ms\.p99\s+last_error$/,
    );
    assert.match(
      lines[3] ?? '',
      /^0\s+compute-001\s+8000\s+role=worker\s+yes\s+3\s+12\.3\s+80\s+-$/,
    );
    assert.match(
      lines[4] ?? '',
      /^1\s+compute-002\s+8000\s+-\s+no\s+0\s+0\s+0\s+connect ECONNREFUSED 10\.0\.0\.2:8000$/,
    );

    const terminal = scriptedIo({}, { terminal: true });
    const ESCAPE = String.fromCharCode(27);
    assert.ok(
      formatStatus('http://x', status, cliStyle(terminal.io, 'stdout'), { wide: true }).includes(
        `${ESCAPE}[31mno${ESCAPE}[39m`,
      ),
    );
    const noColor = scriptedIo({ NO_COLOR: '1' }, { terminal: true });
    assert.ok(!formatStatus('http://x', status, cliStyle(noColor.io, 'stdout')).includes(ESCAPE));
  });

  test('the default fits 100 columns, one latency column, the last error in local time; --wide has the rest', () => {
    const longError = `health probe: ECONNREFUSED: connect ECONNREFUSED ${'10.0.0.2:8000 '.repeat(6)}`;
    const at = '2025-01-15T10:00:05.000Z';
    const status = {
      agents: 2,
      uptime_seconds: 5,
      healthy_agents: 1,
      in_flight: 0,
      queued: 0,
      connector_limit: 1024,
      timeout_seconds: 300,
      requests_total: 8,
      health_checks: true,
      endpoints: [
        {
          index: 0,
          host: 'x4000c0s0b0n0.hostmgmt2000.cm.aurora.alcf.anl.gov',
          port: 8000,
          tags: { role: 'hypotheses', node: 'aurora-0001' },
          healthy: true,
          in_flight: 0,
          requests: 8,
          errors: 0,
          client_aborts: 0,
          last_error: null,
          last_error_at: null,
          latency_ms: { p50: 7.64, p90: 21.95, p99: 21.95 },
          ttfb_ms: { p50: 7.5, p90: 21.84, p99: 21.84 },
        },
        {
          index: 1,
          host: 'compute-002',
          port: 8000,
          tags: {},
          healthy: false,
          in_flight: 0,
          requests: 0,
          errors: 3,
          client_aborts: 0,
          last_error: longError,
          last_error_at: at,
          latency_ms: null,
          ttfb_ms: null,
        },
      ],
    };
    const style = cliStyle(scriptedIo().io, 'stdout');
    const narrow = formatStatus('http://localhost:9090', status, style).trimEnd().split('\n');
    for (const line of narrow) assert.ok(line.length <= 100, `${line.length}: ${line}`);
    assert.match(
      narrow[2] ?? '',
      /^index\s+host\s+port\s+tags\s+healthy\s+busy\s+reqs\s+errs\s+p50ms\s+last error$/,
    );
    assert.match(narrow[3] ?? '', /^0\s+x4000c0s0b0n0\s+8000\s+.*\s7\.6\s+-$/);
    const time = formatLocalTime(at, true);
    assert.match(narrow[4] ?? '', new RegExp(`\\s-\\s+${time} health prob.*…$`));
    assert.equal(
      narrow[0],
      'proxy http://localhost:9090: 2 agent(s) (1 healthy), up 5s, 0 in flight, 0 queued, 8 requests',
    );

    const wide = formatStatus('http://localhost:9090', status, style, { wide: true });
    const header = wide.trimEnd().split('\n')[2] ?? '';
    const columns = header.split(/\s+/);
    assert.equal(new Set(columns).size, columns.length, 'no column twice');
    assert.ok(!columns.includes('latency_ms'), 'no scalar latency_ms beside latency_ms.p50');
    assert.ok(columns.includes('latency_ms.p99') && columns.includes('ttfb_ms.p50'));
    assert.ok(wide.includes(formatLocalTime(at)), 'times in local time, as the log');
    assert.match(formatLocalTime(at), /^\d{4}-\d\d-\d\d \d\d:\d\d:05$/);
  });
});
