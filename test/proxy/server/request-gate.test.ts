import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { routeRequest } from '../../../src/proxy/route-request.js';
import {
  createProxySecrets,
  type GateDecision,
  gateRequest,
} from '../../../src/proxy/server/request-gate.js';

const TOKEN = 'gate-token-0123';
const secrets = createProxySecrets(TOKEN);
const cookie = (secrets?.session.setCookieHeader('localhost:9090') ?? '').split(';')[0] as string;

function decide(
  url: string,
  headers: { 'proxy-authorization'?: string; cookie?: string },
  withToken = true,
): GateDecision {
  return gateRequest(routeRequest(url, 4), { headers }, withToken ? secrets : undefined);
}

describe('gateRequest', () => {
  test('without a token every request is allowed, and no header is read', () => {
    const headers = {
      get 'proxy-authorization'(): string {
        throw new Error('read');
      },
    };
    for (const url of ['/', '/status', '/agent/0/x', '/v1/models', '/nope']) {
      assert.equal(gateRequest(routeRequest(url, 4), { headers }, undefined), 'allow', url);
    }
  });

  test('/health needs no token; the right token opens everything', () => {
    assert.equal(decide('/health', {}), 'allow');
    const bearer = { 'proxy-authorization': `Bearer ${TOKEN}` };
    for (const url of ['/', '/status', '/hosts', '/metrics', '/agent/1/v1/models', '/v1/x']) {
      assert.equal(decide(url, bearer), 'allow', url);
    }
    assert.equal(decide('/status', { 'proxy-authorization': `bearer   ${TOKEN} ` }), 'allow');
  });

  test('the page without the token is left to the status page (?token= or its cookie)', () => {
    assert.equal(decide('/', {}), 'session');
    assert.equal(decide('/?token=wrong', { 'proxy-authorization': 'Bearer wrong' }), 'session');
    assert.equal(decide('/', { cookie }), 'session');
  });

  test('the session cookie opens the read-only routes, never the agents', () => {
    for (const url of ['/status', '/hosts', '/metrics?x=1']) {
      assert.equal(decide(url, { cookie }), 'allow', url);
      assert.equal(decide(url, { cookie: `${cookie}x` }), 'deny', `${url} with a wrong cookie`);
    }
    for (const url of ['/agent/0/v1/models', '/v1/models', '/agent/9/x', '/nope']) {
      assert.equal(decide(url, { cookie }), 'deny', url);
    }
  });

  test('no token or a wrong one is denied everywhere else', () => {
    for (const url of ['/status', '/agent/0/x', '/v1/chat/completions', '/agent/x', '/nope']) {
      assert.equal(decide(url, {}), 'deny', url);
      assert.equal(decide(url, { 'proxy-authorization': 'Bearer wrong' }), 'deny', url);
      assert.equal(decide(url, { 'proxy-authorization': TOKEN }), 'deny', `${url}: no Bearer`);
    }
  });
});
