import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { routeRequest } from '../../src/proxy/route-request.js';

describe('routeRequest', () => {
  test('/v1 and everything under it is pooled, forwarded at the same path; /metrics is local', () => {
    for (const url of ['/v1', '/v1/', '/v1/chat/completions', '/v1/models?x=%2F', '/v1?x=1']) {
      assert.deepEqual(routeRequest(url, 4), { kind: 'pooled', path: url }, url);
    }
    for (const url of ['/v10/models', '/v1x', '/V1/models', '/v2/models']) {
      assert.deepEqual(routeRequest(url, 4), { kind: 'not-found' }, url);
    }
    assert.deepEqual(routeRequest('/metrics', 4), { kind: 'metrics' });
    assert.deepEqual(routeRequest('/metrics?name[]=x', 4), { kind: 'metrics' });
  });

  test('routes the usage guide table rows by path prefix', () => {
    assert.deepEqual(routeRequest('/agent/0/v1/chat/completions', 43), {
      kind: 'agent',
      index: 0,
      path: '/v1/chat/completions',
    });
    assert.deepEqual(routeRequest('/agent/3/v1/models', 43), {
      kind: 'agent',
      index: 3,
      path: '/v1/models',
    });
    assert.deepEqual(routeRequest('/agent/42/generate', 43), {
      kind: 'agent',
      index: 42,
      path: '/generate',
    });
  });

  test('keeps the path and query byte for byte', () => {
    const cases: Array<[string, string]> = [
      ['/agent/1/a%2Fb/../c?x=%2F&y=a+b', '/a%2Fb/../c?x=%2F&y=a+b'],
      ['/agent/1//double//slash', '//double//slash'],
      ['/agent/1/v1/models?', '/v1/models?'],
      ['/agent/1/', '/'],
      ['/agent/1', '/'],
      ['/agent/1?x=1', '/?x=1'],
    ];
    for (const [url, path] of cases) {
      assert.deepEqual(routeRequest(url, 4), { kind: 'agent', index: 1, path }, url);
    }
  });

  test('rejects out-of-range indices with the exact message', () => {
    assert.deepEqual(routeRequest('/agent/9/v1/models', 4), {
      kind: 'bad-index',
      message: 'agent index 9 out of range [0, 4)',
    });
    assert.deepEqual(routeRequest('/agent/4', 4), {
      kind: 'bad-index',
      message: 'agent index 4 out of range [0, 4)',
    });
    const huge = routeRequest('/agent/99999999999999999999/x', 4);
    assert.equal(huge.kind, 'bad-index');
  });

  test('rejects anything but a plain decimal index', () => {
    for (const index of ['-1', '+1', '1.0', 'abc', '0x1', '%31', '1e2', ' 1', '١']) {
      const route = routeRequest(`/agent/${index}/v1/models`, 4);
      assert.equal(route.kind, 'bad-index', index);
      assert.match(
        (route as { message: string }).message,
        /^invalid agent index ".*": expected a decimal integer in \[0, 4\)$/,
      );
    }
    assert.equal(routeRequest('/agent//v1/models', 4).kind, 'bad-index');
    assert.equal(routeRequest('/agent/', 4).kind, 'bad-index');
    assert.equal(routeRequest('/agent', 4).kind, 'bad-index');
  });

  test('leading zeros are still a decimal index', () => {
    assert.deepEqual(routeRequest('/agent/007/x', 8), { kind: 'agent', index: 7, path: '/x' });
  });

  test('local routes, with or without a query, and 404 for the rest', () => {
    assert.equal(routeRequest('/health', 1).kind, 'health');
    assert.equal(routeRequest('/health?probe=1', 1).kind, 'health');
    assert.equal(routeRequest('/status', 1).kind, 'status');
    assert.equal(routeRequest('/hosts', 1).kind, 'hosts');
    assert.equal(routeRequest('/', 1).kind, 'page');
    assert.equal(routeRequest('/?token=x', 1).kind, 'page');
    for (const url of [
      '//',
      '/index.html',
      '/healthz',
      '/health/',
      '/agents/0/x',
      '/Agent/0/x',
      '*',
      'http://x/agent/0/',
    ]) {
      assert.equal(routeRequest(url, 1).kind, 'not-found', url);
    }
  });
});
