import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { Script } from 'node:vm';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import {
  STATUS_PAGE_CONTENT_SECURITY_POLICY,
  STATUS_PAGE_HTML,
  STATUS_PAGE_SCRIPT,
} from '../../../src/proxy/status-page/status-page.js';
import { send, startTestProxy } from '../proxy-test-helpers.js';

const TOKEN = 'page-token-0123456789';

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function inline(html: string, tag: string): string[] {
  const pattern = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  return [...html.matchAll(pattern)].map((match) => match[1] as string);
}

describe('GET / (status page) over HTTP', () => {
  test('the page is one document: inline style and script allowed by hash, nothing external', () => {
    const scripts = inline(STATUS_PAGE_HTML, 'script');
    const styles = inline(STATUS_PAGE_HTML, 'style');
    assert.equal(scripts.length, 1);
    assert.equal(styles.length, 1);
    assert.equal(scripts[0], STATUS_PAGE_SCRIPT);
    assert.ok(
      STATUS_PAGE_CONTENT_SECURITY_POLICY.includes(`script-src ${sha256(STATUS_PAGE_SCRIPT)}`),
    );
    assert.ok(
      STATUS_PAGE_CONTENT_SECURITY_POLICY.includes(`style-src ${sha256(styles[0] as string)}`),
    );
    assert.match(STATUS_PAGE_CONTENT_SECURITY_POLICY, /^default-src 'none'; /);
    assert.doesNotMatch(STATUS_PAGE_CONTENT_SECURITY_POLICY, /unsafe/);
    assert.doesNotMatch(STATUS_PAGE_HTML, /https?:\/\//, 'no absolute URL anywhere');
    assert.doesNotMatch(STATUS_PAGE_HTML, /\bsrc=|@import|url\(/, 'nothing loaded by the markup');
    // The script parses (the browser tests run it).
    assert.doesNotThrow(() => new Script(STATUS_PAGE_SCRIPT));
  });

  test('without a token: the page with CSP, no-store and nosniff; HEAD has no body; POST 405', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const response = await send(proxy.url, '/');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers['content-security-policy'], STATUS_PAGE_CONTENT_SECURITY_POLICY);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['x-frame-options'], 'DENY');
    assert.equal(response.text, STATUS_PAGE_HTML);
    assert.equal(Number(response.headers['content-length']), response.body.length);

    const withQuery = await send(proxy.url, '/?refresh=1&token=ignored');
    assert.equal(withQuery.status, 200, 'without a token configured, ?token= is ignored');

    const head = await send(proxy.url, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);

    const post = await send(proxy.url, '/', { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal(swarm.agents[0]?.stats.requests, 0);
  });

  test('with a token: 401 explains; ?token= sets the cookie and redirects; the cookie opens local routes only', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { token: TOKEN, logLevel: 'DEBUG' });
    const host: [string, string] = ['Host', 'localhost:9090'];

    const bare = await send(proxy.url, '/', { headers: [host] });
    assert.equal(bare.status, 401);
    assert.equal(bare.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(bare.headers['cache-control'], 'no-store');
    assert.match(String(bare.headers['content-security-policy']), /^default-src 'none'; /);
    assert.match(bare.text, /http:\/\/localhost:9090\/\?token=&lt;token&gt;/);
    assert.match(bare.text, /Proxy-Authorization: Bearer &lt;token&gt;/);

    const wrong = await send(proxy.url, '/?token=nope', { headers: [host] });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /token in the address is wrong/);
    assert.equal(wrong.headers['set-cookie'], undefined);

    const login = await send(proxy.url, `/?token=${TOKEN}`, { headers: [host] });
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, './');
    assert.equal(login.headers['cache-control'], 'no-store');
    const setCookie = login.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, /^aurora_swarm_proxy_9090=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.ok(!setCookie.includes(TOKEN), 'the cookie is not the token');
    const cookie = setCookie.split(';')[0] as string;

    const page = await send(proxy.url, '/', {
      headers: [host, ['Cookie', `theme=dark; ${cookie}`]],
    });
    assert.equal(page.status, 200);
    assert.equal(page.text, STATUS_PAGE_HTML);
    for (const path of ['/status', '/hosts']) {
      const local = await send(proxy.url, path, { headers: [['Cookie', cookie]] });
      assert.equal(local.status, 200, path);
      const without = await send(proxy.url, path);
      assert.equal(without.status, 401, path);
    }
    // A wrong cookie value opens nothing.
    const forged = await send(proxy.url, '/status', {
      headers: [['Cookie', 'aurora_swarm_proxy_9090=AAAA']],
    });
    assert.equal(forged.status, 401);

    // The cookie never opens the agents.
    const agent = await send(proxy.url, '/agent/0/v1/models', { headers: [['Cookie', cookie]] });
    assert.equal(agent.status, 401);
    assert.equal(swarm.agents[0]?.stats.requests, 0);

    // With the header, the agent is reached, and gets every cookie but ours.
    const received = swarm.agents[1]!.nextRequest();
    const forwarded = await send(proxy.url, '/agent/1/v1/models', {
      headers: [
        ['Proxy-Authorization', `Bearer ${TOKEN}`],
        ['Cookie', `theme=dark; ${cookie}; lang=en`],
      ],
    });
    assert.equal(forwarded.status, 200);
    const upstream = await received;
    assert.equal(upstream.headers.cookie, 'theme=dark; lang=en');

    // The header opens the page too (curl), and /health needs nothing.
    const withHeader = await send(proxy.url, '/', {
      headers: [['Proxy-Authorization', `Bearer ${TOKEN}`]],
    });
    assert.equal(withHeader.status, 200);
    assert.equal((await send(proxy.url, '/health')).status, 200);

    // Nothing the proxy logged, at DEBUG, carries the token or the cookie's value.
    const logged = proxy.logLines.join('');
    assert.ok(!logged.includes(TOKEN), logged);
    assert.ok(!logged.includes(cookie.split('=')[1] as string), logged);
    assert.match(
      logged,
      /\[WARNING\] aurora_swarm\.proxy: status page: wrong token in the address/,
    );
  });

  test('a token with + and % works pasted as is or percent-encoded; odd Host headers are not echoed', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const token = 'a+b%c';
    // Every Host accepted, so that the odd one reaches the page (by default the Host
    // guard refuses it first: test/proxy/guards/cross-site-guard.test.ts).
    const proxy = await startTestProxy(t, swarm.endpoints, { token, allowHosts: ['*'] });
    assert.equal((await send(proxy.url, '/?token=a+b%c')).status, 303);
    assert.equal((await send(proxy.url, `/?token=${encodeURIComponent(token)}`)).status, 303);
    assert.equal((await send(proxy.url, '/?token=a%20b%25c')).status, 401);

    const odd = await send(proxy.url, '/', { headers: [['Host', 'evil"><script>x']] });
    assert.equal(odd.status, 401);
    assert.doesNotMatch(odd.text, /evil|<script>/);
    assert.match(odd.text, /localhost:9090/);
  });
});
