import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { resolveProxyOptions } from '../../src/proxy/proxy-options.js';

function rejects(options: Parameters<typeof resolveProxyOptions>[0], pattern: RegExp) {
  assert.throws(
    () => resolveProxyOptions({ hostfile: 'h', ...options }, {}),
    (error: unknown) => error instanceof InvalidOptionError && pattern.test(error.message),
  );
}

describe('resolveProxyOptions', () => {
  test('defaults are the usage guide table', () => {
    const resolved = resolveProxyOptions({ hostfile: 'hosts.txt' }, {});
    assert.equal(resolved.hostfile, 'hosts.txt');
    assert.equal(resolved.host, '0.0.0.0');
    assert.equal(resolved.port, 9090);
    assert.equal(resolved.connectorLimit, 1024);
    assert.equal(resolved.timeoutMs, 300_000);
    assert.equal(resolved.logLevel, 'INFO');
    assert.equal(resolved.token, undefined);
  });

  test('hostfile and token fall back to the environment; explicit options win', () => {
    const env = { AURORA_SWARM_HOSTFILE: '/env/hosts', AURORA_SWARM_PROXY_TOKEN: 'env-token' };
    const fromEnv = resolveProxyOptions({}, env);
    assert.equal(fromEnv.hostfile, '/env/hosts');
    assert.equal(fromEnv.token, 'env-token');
    const explicit = resolveProxyOptions({ hostfile: '/flag/hosts', token: 'flag-token' }, env);
    assert.equal(explicit.hostfile, '/flag/hosts');
    assert.equal(explicit.token, 'flag-token');
    assert.equal(
      resolveProxyOptions({ hostfile: 'h' }, { AURORA_SWARM_PROXY_TOKEN: '' }).token,
      undefined,
    );
  });

  test('a missing hostfile names the flag and the variable', () => {
    assert.throws(
      () => resolveProxyOptions({}, {}),
      /no hostfile given: pass --hostfile PATH \(-f PATH\) or set AURORA_SWARM_HOSTFILE/,
    );
    const withEndpoints = resolveProxyOptions({ endpoints: [createEndpoint('a', 1)] }, {});
    assert.equal(withEndpoints.hostfile, undefined);
  });

  test('accepts flag text: fractional timeouts, port 0, any-case levels', () => {
    const resolved = resolveProxyOptions(
      { hostfile: 'h', port: '0', connectorLimit: '2', timeoutSeconds: '0.25', logLevel: 'debug' },
      {},
    );
    assert.equal(resolved.port, 0);
    assert.equal(resolved.connectorLimit, 2);
    assert.equal(resolved.timeoutMs, 250);
    assert.equal(resolved.logLevel, 'DEBUG');
  });

  test('invalid values quote the flag and the value', () => {
    rejects(
      { port: 'abc' },
      /^invalid value "abc" for --port: expected an integer from 0 to 65535$/,
    );
    rejects({ port: '70000' }, /"70000" for --port/);
    rejects({ port: -1 }, /-1 for --port/);
    rejects({ connectorLimit: '0' }, /"0" for --connector-limit: expected an integer from 1/);
    rejects({ connectorLimit: '2.5' }, /"2\.5" for --connector-limit/);
    rejects(
      { maxIdlePerAgent: '-1' },
      /"-1" for --max-idle-per-agent: expected an integer from 0 to 1000000/,
    );
    rejects({ maxIdlePerAgent: 'some' }, /"some" for --max-idle-per-agent/);
    rejects({ timeoutSeconds: '0' }, /"0" for --timeout: expected a positive number of seconds/);
    rejects({ timeoutSeconds: 'soon' }, /"soon" for --timeout/);
    rejects({ timeoutSeconds: '-3' }, /"-3" for --timeout/);
    rejects({ timeoutSeconds: 'Infinity' }, /"Infinity" for --timeout/);
    rejects(
      { logLevel: 'LOUD' },
      /"LOUD" for --log-level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL/,
    );
    rejects({ host: '' }, /"" for --host/);
    rejects({ token: 'has space' }, /--token/);
    rejects(
      { timeoutSeconds: '10', maxTimeoutSeconds: '5' },
      /--max-timeout: expected at least --timeout/,
    );
  });

  test('health, reload and metrics options: defaults, flag text and bad values', () => {
    const defaults = resolveProxyOptions({ hostfile: 'h' }, {});
    assert.equal(defaults.healthIntervalMs, 10_000);
    assert.equal(defaults.healthTimeoutMs, 2_000);
    assert.equal(defaults.unhealthyThreshold, 2);
    assert.equal(defaults.healthyThreshold, 1);
    assert.equal(defaults.healthConcurrency, 64);
    assert.equal(defaults.watchHostfile, true);
    assert.equal(defaults.metricsAgentLabel, true);
    assert.equal(defaults.maxIdlePerAgent, 64);
    assert.equal(
      resolveProxyOptions({ hostfile: 'h', maxIdlePerAgent: '0' }, {}).maxIdlePerAgent,
      0,
    );
    const given = resolveProxyOptions(
      {
        hostfile: 'h',
        healthIntervalSeconds: '0',
        healthTimeoutSeconds: '0.5',
        unhealthyThreshold: '3',
        healthyThreshold: 2,
        healthConcurrency: '8',
        watchHostfile: false,
        metricsAgentLabel: false,
      },
      {},
    );
    assert.equal(given.healthIntervalMs, 0);
    assert.equal(given.healthTimeoutMs, 500);
    assert.equal(given.unhealthyThreshold, 3);
    assert.equal(given.healthyThreshold, 2);
    assert.equal(given.healthConcurrency, 8);
    assert.equal(given.watchHostfile, false);
    assert.equal(given.metricsAgentLabel, false);
    rejects({ healthIntervalSeconds: '-1' }, /"-1" for --health-interval: expected a non-negative/);
    rejects({ healthTimeoutSeconds: '0' }, /"0" for --health-timeout: expected a positive/);
    rejects(
      { unhealthyThreshold: '0' },
      /"0" for --unhealthy-threshold: expected an integer from 1/,
    );
    rejects({ healthyThreshold: 'x' }, /"x" for --healthy-threshold/);
    rejects({ healthConcurrency: '0' }, /"0" for --health-concurrency/);
    rejects(
      { watchHostfile: 'no' as unknown as boolean },
      /"no" for watchHostfile: expected true or false/,
    );
  });

  test('never mutates its input', () => {
    const options = Object.freeze({ hostfile: 'h', port: '1' });
    resolveProxyOptions(options, {});
    assert.deepEqual(options, { hostfile: 'h', port: '1' });
  });
});
