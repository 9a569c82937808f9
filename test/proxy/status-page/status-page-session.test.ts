import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createStatusPageSession,
  tokenCandidates,
} from '../../../src/proxy/status-page/status-page-session.js';

describe('status page session', () => {
  test('the cookie is HttpOnly, SameSite=Strict, named after the port, and not the token', () => {
    const token = 's3cret-token';
    const session = createStatusPageSession(token);
    const setCookie = session.setCookieHeader('localhost:9090');
    const match =
      /^aurora_swarm_proxy_9090=([A-Za-z0-9_-]+); Path=\/; HttpOnly; SameSite=Strict$/.exec(
        setCookie,
      );
    assert.ok(match, setCookie);
    const value = match[1] as string;
    assert.ok(!setCookie.includes(token));
    assert.equal(session.setCookieHeader('[::1]:8080').split('=')[0], 'aurora_swarm_proxy_8080');
    assert.equal(session.setCookieHeader('localhost').split('=')[0], 'aurora_swarm_proxy_80');
    assert.equal(session.setCookieHeader(undefined).split('=')[0], 'aurora_swarm_proxy_80');

    assert.ok(session.cookieMatches(`aurora_swarm_proxy_9090=${value}`));
    assert.ok(session.cookieMatches(`a=1; aurora_swarm_proxy_1234=${value}; b=2`));
    assert.ok(!session.cookieMatches(undefined));
    assert.ok(!session.cookieMatches('a=1'));
    assert.ok(!session.cookieMatches(`aurora_swarm_proxy_9090=${value}x`));
    assert.ok(!session.cookieMatches(`other=${value}`), 'only our cookie names count');
    assert.ok(!session.cookieMatches(`aurora_swarm_proxy_9090=${token}`), 'the token is no cookie');

    // Same token, same cookie: a restarted proxy (or another worker) accepts it.
    assert.ok(createStatusPageSession(token).cookieMatches(`aurora_swarm_proxy_9090=${value}`));
    assert.ok(!createStatusPageSession('other').cookieMatches(`aurora_swarm_proxy_9090=${value}`));
  });

  test('tokenMatches compares the whole token', () => {
    const session = createStatusPageSession('abc+def');
    assert.ok(session.tokenMatches('abc+def'));
    for (const candidate of ['', 'abc', 'abc+de', 'abc+deff', 'ABC+DEF']) {
      assert.ok(!session.tokenMatches(candidate), candidate);
    }
  });

  test('tokenCandidates reads ?token= decoded and as written', () => {
    assert.deepEqual(tokenCandidates('/'), []);
    assert.deepEqual(tokenCandidates('/?refresh=1'), []);
    assert.deepEqual(tokenCandidates('/?token=abc'), ['abc']);
    assert.deepEqual(tokenCandidates('/?refresh=1&token=a%2Bb'), ['a+b', 'a%2Bb']);
    assert.deepEqual(tokenCandidates('/?token=a+b'), ['a b', 'a+b']);
    assert.deepEqual(tokenCandidates('/?token=100%'), ['100%']);
    assert.deepEqual(tokenCandidates('/?token='), ['']);
    assert.deepEqual(tokenCandidates('/?token'), ['']);
    assert.deepEqual(tokenCandidates('/?xtoken=abc'), []);
  });
});
