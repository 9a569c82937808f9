/** `aurora-swarm status` against the proxy in-process, and the generic table. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { cliStyle } from '../../src/cli/cli-style.js';
import { formatStatus } from '../../src/cli/commands/status-command.js';
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
    assert.match(lines[0] ?? '', /^proxy http:\/\/127\.0\.0\.1:\d+: agents 2, up \d+s/);
    assert.match(
      lines[2] ?? '',
      /^index\s+host\s+port\s+tags\s+healthy\s+in_flight\s+requests\s+errors/,
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
      `aurora-swarm status: error: cannot reach the proxy at http://127.0.0.1:${port}: ECONNREFUSED (is it running? is the SSH tunnel up?)`,
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
    const plain = formatStatus('http://x', status, cliStyle(scriptedIo().io, 'stdout'));
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
      formatStatus('http://x', status, cliStyle(terminal.io, 'stdout')).includes(
        `${ESCAPE}[31mno${ESCAPE}[39m`,
      ),
    );
    const noColor = scriptedIo({ NO_COLOR: '1' }, { terminal: true });
    assert.ok(!formatStatus('http://x', status, cliStyle(noColor.io, 'stdout')).includes(ESCAPE));
  });
});
