/**
 * Without probes (`--health-interval 0`), connection failures of real requests are a
 * circuit breaker shared by every request: out after `unhealthyThreshold` in a row, back on
 * trial after the cooldown, out again at the trial's first failure, closed by a response.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createEndpoint } from '../../../src/hostfile/agent-endpoint.js';
import {
  connectionSettings,
  UpstreamConnections,
} from '../../../src/proxy/agents/agent-connections.js';
import { AgentTargets } from '../../../src/proxy/agents/agent-targets.js';
import { HealthMonitor } from '../../../src/proxy/health/health-monitor.js';
import { ProxyLogger } from '../../../src/proxy/proxy-logger.js';

function monitorOf(t: { after: (fn: () => Promise<void>) => void }) {
  const targets = new AgentTargets(
    [createEndpoint('compute-001', 8000, {}), createEndpoint('compute-002', 8000, {})],
    () => [0, 0, 0, 0, 0, 0],
    new UpstreamConnections(connectionSettings(4)),
  );
  const lines: string[] = [];
  const transitions: boolean[] = [];
  const monitor = new HealthMonitor(
    {
      intervalMs: 0,
      timeoutMs: 1000,
      unhealthyThreshold: 2,
      healthyThreshold: 1,
      concurrency: 1,
      passiveCooldownMs: 20,
    },
    () => targets.all,
    new ProxyLogger('INFO', (line) => lines.push(line)),
    {
      onTransition: (_target, healthy) => {
        transitions.push(healthy);
        targets.healthChanged();
      },
      onProbe: () => undefined,
    },
  );
  t.after(() => monitor.close());
  return { targets, monitor, lines, transitions };
}

async function until(condition: () => boolean): Promise<void> {
  for (let poll = 0; poll < 2000 && !condition(); poll++) await delay(5);
  assert.ok(condition(), 'the condition never held');
}

const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('the passive circuit breaker of the proxy (no health checks)', () => {
  test('out after the threshold, back on trial after the cooldown, out again at once', async (t) => {
    const { targets, monitor, lines, transitions } = monitorOf(t);
    const dead = targets.all[1]!;
    monitor.reportConnectFailure(dead, refused);
    assert.equal(dead.health.healthy, true);
    monitor.reportConnectFailure(dead, refused);
    assert.equal(dead.health.healthy, false);
    assert.deepEqual(
      targets.candidates(undefined).map((target) => target.index),
      [0],
    );
    assert.match(
      lines.at(-1) ?? '',
      /Agent 1 \(compute-002:8000\) is unhealthy: 2 connection failure\(s\) in a row \(.*ECONNREFUSED.*\); no health checks \(--health-interval 0\): given requests again in 0\.02s/,
    );
    await until(() => dead.health.healthy);
    assert.match(
      lines.at(-1) ?? '',
      /Agent 1 \(compute-002:8000\) is given requests again, on trial/,
    );
    assert.deepEqual(
      targets.candidates(undefined).map((target) => target.index),
      [0, 1],
    );
    // The trial's first connection failure takes it out again.
    monitor.reportConnectFailure(dead, refused);
    assert.equal(dead.health.healthy, false);
    await until(() => dead.health.healthy);
    // A response (forward-request.ts resets the streak) closes the breaker: it takes the
    // full threshold again.
    dead.health.consecutiveFailures = 0;
    monitor.reportConnectFailure(dead, refused);
    assert.equal(dead.health.healthy, true);
    assert.deepEqual(transitions, [false, true, false, true]);
  });

  test('closing the monitor cancels a pending readmission', async (t) => {
    const { targets, monitor } = monitorOf(t);
    const dead = targets.all[0]!;
    monitor.reportConnectFailure(dead, refused);
    monitor.reportConnectFailure(dead, refused);
    await monitor.close();
    await delay(60);
    assert.equal(dead.health.healthy, false);
  });
});
