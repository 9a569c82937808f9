/**
 * The Host and Origin checks (guards/cross-site-guard.ts): the pure verdict, then the
 * real proxy in front of simulated agents, as the tools our users run see it — curl,
 * SSH local forwarding (`Host: localhost:9090`), the official openai SDK, our pools —
 * and as a hostile web page sees it (DNS rebinding, cross-site POSTs, preflights).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { InvalidOptionError } from '../../../src/errors.js';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import { scatterGather } from '../../../src/patterns/scatter-gather.js';
import { VLLMPool } from '../../../src/pool/vllm-pool.js';
import {
  CrossSiteGuard,
  type CrossSiteVerdict,
  parseAllowedOrigin,
} from '../../../src/proxy/guards/cross-site-guard.js';
import { HostAllowlist } from '../../../src/proxy/guards/host-allowlist.js';
import { ProxyLogger } from '../../../src/proxy/proxy-logger.js';
import { send, startTestProxy, startUpstream } from '../proxy-test-helpers.js';

const SAFETY = { timeout: 30_000 };
const ATTACKER = 'https://attacker.example';
const NOTEBOOK = 'https://notebooks.example.org';
const CHAT = JSON.stringify({
  model: 'meta-llama/Llama-3.1-70B-Instruct',
  messages: [{ role: 'user', content: 'Hello!' }],
  max_tokens: 8,
});

function guardFor(allowOrigins: string[] = [], allowHosts: string[] = []) {
  return new CrossSiteGuard({
    hosts: new HostAllowlist({
      bindHost: '127.0.0.1',
      allowHosts,
      machine: { hostnames: ['login01'], addresses: [] },
    }),
    allowOrigins,
    logger: new ProxyLogger('CRITICAL', () => undefined),
  });
}

function screen(guard: CrossSiteGuard, headers: string[], method = 'GET'): CrossSiteVerdict {
  return guard.screen(method, headers);
}

describe('CrossSiteGuard.screen', () => {
  test('requests without Origin pass whatever their client: curl, SDKs, pools, HTTP/1.0', () => {
    const guard = guardFor();
    assert.equal(screen(guard, ['Host', '127.0.0.1:9090', 'User-Agent', 'curl/8']), 'pass');
    assert.equal(
      screen(guard, ['host', 'localhost:9090', 'content-type', 'application/json'], 'POST'),
      'pass',
    );
    assert.equal(screen(guard, ['HOST', 'LocalHost:9090']), 'pass');
    assert.equal(screen(guard, []), 'pass');
  });

  test('a foreign or malformed Host is refused before anything else', () => {
    const guard = guardFor();
    assert.equal(screen(guard, ['Host', 'attacker.example:9090']), 'foreign-host');
    assert.equal(
      screen(guard, ['Host', 'attacker.example:9090', 'Origin', 'http://attacker.example:9090']),
      'foreign-host',
    );
    assert.equal(screen(guard, ['Host', '']), 'malformed-host');
    assert.equal(
      screen(guard, ['Host', 'localhost:9090', 'Host', 'attacker.example']),
      'malformed-host',
    );
    assert.equal(screen(guardFor([], ['*']), ['Host', 'attacker.example']), 'pass');
  });

  test("the proxy's own origin passes; other origins are refused unless listed", () => {
    const guard = guardFor([NOTEBOOK]);
    const host = ['Host', 'localhost:9090'];
    assert.equal(screen(guard, [...host, 'Origin', 'http://localhost:9090'], 'POST'), 'pass');
    assert.equal(screen(guard, [...host, 'Origin', 'https://localhost:9090'], 'POST'), 'pass');
    assert.equal(
      screen(guard, [...host, 'Origin', 'http://localhost:8888'], 'POST'),
      'foreign-origin',
    );
    assert.equal(screen(guard, [...host, 'Origin', ATTACKER], 'POST'), 'foreign-origin');
    assert.equal(screen(guard, [...host, 'Origin', 'null'], 'POST'), 'foreign-origin');
    assert.equal(screen(guard, [...host, 'Origin', NOTEBOOK], 'POST'), 'cors');
    assert.equal(
      screen(guard, [...host, 'Origin', NOTEBOOK, 'Origin', ATTACKER], 'POST'),
      'foreign-origin',
    );
    assert.equal(screen(guardFor(['*']), [...host, 'Origin', ATTACKER], 'POST'), 'cors');
  });

  test('preflights: answered for listed (and own) origins, refused for others', () => {
    const guard = guardFor([NOTEBOOK]);
    const preflight = (origin: string) =>
      screen(
        guard,
        ['Host', 'localhost:9090', 'Origin', origin, 'Access-Control-Request-Method', 'POST'],
        'OPTIONS',
      );
    assert.equal(preflight(NOTEBOOK), 'preflight');
    assert.equal(preflight('http://localhost:9090'), 'preflight');
    assert.equal(preflight(ATTACKER), 'foreign-origin');
    // An OPTIONS request without Access-Control-Request-Method is no preflight.
    assert.equal(screen(guard, ['Host', 'localhost', 'Origin', NOTEBOOK], 'OPTIONS'), 'cors');
  });

  test('Fetch Metadata: a cross-site request without Origin (an <img>) is refused; navigations pass', () => {
    const guard = guardFor();
    const host = ['Host', 'localhost:9090'];
    const site = (value: string, mode: string) => [
      ...host,
      'Sec-Fetch-Site',
      value,
      'Sec-Fetch-Mode',
      mode,
    ];
    assert.equal(screen(guard, site('cross-site', 'no-cors')), 'cross-site');
    assert.equal(screen(guard, site('cross-site', 'navigate')), 'pass');
    assert.equal(screen(guard, site('same-origin', 'cors')), 'pass');
    assert.equal(screen(guard, site('none', 'navigate')), 'pass');
    assert.equal(screen(guardFor(['*']), site('cross-site', 'no-cors')), 'pass');
  });

  test('parseAllowedOrigin takes origins as browsers send them', () => {
    assert.equal(parseAllowedOrigin('https://Notebooks.Example.org/'), NOTEBOOK);
    assert.equal(parseAllowedOrigin('http://localhost:8888'), 'http://localhost:8888');
    assert.equal(parseAllowedOrigin('http://localhost:80'), 'http://localhost');
    assert.equal(parseAllowedOrigin('null'), 'null');
    assert.equal(parseAllowedOrigin('*'), '*');
    for (const value of [
      'notebooks.example.org',
      'https://x.example/path',
      'ftp://x.example',
      'https://x.example?a',
      '',
      7,
    ]) {
      assert.throws(
        () => parseAllowedOrigin(value),
        (error: unknown) =>
          error instanceof InvalidOptionError && /--allow-origin/.test(error.message),
        String(value),
      );
    }
  });
});

describe('the proxy against web pages, and the clients that must keep working', () => {
  test(
    'curl, SSH forwarding (Host: localhost:9090), [::1] and an SDK-style POST: every route answers',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      for (const host of [undefined, 'localhost:9090', `localhost:${proxy.port}`, '[::1]:9090']) {
        const headers: Array<[string, string]> = host === undefined ? [] : [['Host', host]];
        for (const path of [
          '/health',
          '/status',
          '/hosts',
          '/metrics',
          '/',
          '/agent/0/v1/models',
          '/v1/models',
        ]) {
          const response = await send(proxy.url, path, { headers });
          assert.equal(response.status, 200, `${host} ${path}: ${response.text}`);
          assert.equal(response.headers['access-control-allow-origin'], undefined);
        }
        const chat = await send(proxy.url, '/agent/1/v1/chat/completions', {
          method: 'POST',
          headers: [...headers, ['Content-Type', 'application/json']],
          body: CHAT,
        });
        assert.equal(chat.status, 200, chat.text);
      }
    },
  );

  test(
    'DNS rebinding: a foreign Host gets 403 on every route, /health included, and reaches no agent',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      for (const path of [
        '/agent/0/v1/models',
        '/v1/models',
        '/status',
        '/',
        '/health',
        '/metrics',
        '/nope',
      ]) {
        const response = await send(proxy.url, path, {
          headers: [['Host', `attacker.example:${proxy.port}`]],
        });
        assert.equal(response.status, 403, path);
        assert.match(
          JSON.parse(response.text).error,
          /not a name of this proxy.*--allow-host attacker\.example$/,
        );
        assert.equal(response.headers.connection, 'close');
      }
      assert.deepEqual(
        swarm.agents.map((agent) => agent.stats.requests),
        [0, 0],
      );
      // One WARNING line, however many refusals (at most one every 10 s).
      const warnings = proxy.logLines.filter((line) => line.includes('[WARNING]'));
      assert.equal(warnings.length, 1, warnings.join(''));
      assert.match(
        warnings[0] ?? '',
        /refused GET "\/agent\/0\/v1\/models" from 127\.0\.0\.1: Host "attacker\.example:\d+"/,
      );
    },
  );

  test('--allow-host lets a gateway name in', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { allowHosts: ['gateway.site.gov'] });
    const response = await send(proxy.url, '/agent/0/v1/models', {
      headers: [['Host', 'gateway.site.gov']],
    });
    assert.equal(response.status, 200);
    assert.equal(
      (await send(proxy.url, '/health', { headers: [['Host', 'other.site.gov']] })).status,
      403,
    );
  });

  test(
    'cross-site POSTs (text/plain without preflight, JSON) are 403 on forwarded and local routes',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      for (const path of [
        '/agent/0/v1/chat/completions',
        '/v1/chat/completions',
        '/status',
        '/health',
        '/',
      ]) {
        for (const type of [
          'text/plain',
          'application/json',
          'application/x-www-form-urlencoded',
        ]) {
          const response = await send(proxy.url, path, {
            method: 'POST',
            headers: [
              ['Origin', ATTACKER],
              ['Content-Type', type],
            ],
            body: CHAT,
          });
          assert.equal(response.status, 403, `${path} ${type}`);
          assert.equal(response.headers['access-control-allow-origin'], undefined);
          assert.match(
            JSON.parse(response.text).error,
            /--allow-origin https:\/\/attacker\.example$/,
          );
        }
      }
      // An <img> pointing at the proxy: no Origin, but the browser says cross-site.
      const image = await send(proxy.url, '/agent/0/v1/models', {
        headers: [
          ['Sec-Fetch-Site', 'cross-site'],
          ['Sec-Fetch-Mode', 'no-cors'],
          ['Sec-Fetch-Dest', 'image'],
        ],
      });
      assert.equal(image.status, 403);
      assert.equal(swarm.agents[0]?.stats.requests, 0);
      // A link from another site to the status page still opens it.
      const link = await send(proxy.url, '/', {
        headers: [
          ['Sec-Fetch-Site', 'cross-site'],
          ['Sec-Fetch-Mode', 'navigate'],
        ],
      });
      assert.equal(link.status, 200);
    },
  );

  test(
    'a refused request is answered without reading its body, and the connection closed',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      // A declared body that never comes: the answer must not wait for it, and the
      // proxy ends the connection rather than read the rest.
      const socket = connect(proxy.port, '127.0.0.1');
      socket.write(
        `POST /agent/0/v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: ${ATTACKER}\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n{"prompt":`,
      );
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
      });
      await once(socket, 'end');
      socket.destroy();
      assert.match(received, /^HTTP\/1\.1 403 /);
      assert.match(received, /\r\nconnection: close\r\n/i);
      assert.equal(swarm.agents[0]?.stats.requests, 0);
    },
  );

  test(
    'preflights: no CORS grant for a foreign origin; a listed one gets exactly its own',
    SAFETY,
    async (t) => {
      const upstream = await startUpstream(t, (request, response) => {
        // What vLLM's CORSMiddleware sends by default (allow_origins=["*"]).
        response.writeHead(200, {
          'content-type': 'application/json',
          'access-control-allow-origin': '*',
          'access-control-allow-credentials': 'true',
          vary: 'Origin',
        });
        response.end(JSON.stringify({ method: request.method }));
      });
      const proxy = await startTestProxy(t, [upstream.endpoint], { allowOrigins: [NOTEBOOK] });
      const preflightHeaders = (origin: string): Array<[string, string]> => [
        ['Origin', origin],
        ['Access-Control-Request-Method', 'POST'],
        ['Access-Control-Request-Headers', 'content-type, x-timeout'],
        ['Access-Control-Request-Private-Network', 'true'],
      ];
      let upstreamRequests = 0;
      upstream.events.on('request', () => upstreamRequests++);

      const foreign = await send(proxy.url, '/agent/0/v1/chat/completions', {
        method: 'OPTIONS',
        headers: preflightHeaders(ATTACKER),
      });
      assert.equal(foreign.status, 403);
      assert.ok(
        !foreign.rawHeaders.some((name) => /^access-control-/i.test(name)),
        foreign.rawHeaders.join(' '),
      );

      const listed = await send(proxy.url, '/v1/chat/completions', {
        method: 'OPTIONS',
        headers: preflightHeaders(NOTEBOOK),
      });
      assert.equal(listed.status, 204);
      assert.equal(listed.headers['access-control-allow-origin'], NOTEBOOK);
      assert.match(String(listed.headers['access-control-allow-methods']), /\bPOST\b/);
      assert.equal(listed.headers['access-control-allow-headers'], 'content-type, x-timeout');
      assert.equal(listed.headers['access-control-allow-private-network'], 'true');
      assert.equal(listed.headers['access-control-allow-credentials'], undefined);
      assert.equal(upstreamRequests, 0, 'preflights never reach an agent');

      // The real request from the listed origin: the agent's "*" is replaced by the origin.
      const real = await send(proxy.url, '/agent/0/v1/chat/completions', {
        method: 'POST',
        headers: [
          ['Origin', NOTEBOOK],
          ['Content-Type', 'application/json'],
        ],
        body: CHAT,
      });
      assert.equal(real.status, 200);
      assert.equal(real.headers['access-control-allow-origin'], NOTEBOOK);
      assert.equal(real.headers['access-control-expose-headers'], 'X-Agent-Index');
      assert.equal(real.headers['access-control-allow-credentials'], undefined);
      // Without Origin (curl), no CORS header at all: the agent's are dropped.
      const plain = await send(proxy.url, '/agent/0/v1/models');
      assert.equal(plain.status, 200);
      assert.ok(
        !plain.rawHeaders.some((name) => /^access-control-/i.test(name)),
        plain.rawHeaders.join(' '),
      );
      // A listed origin's answers from the proxy itself carry the grant too (errors included).
      const missing = await send(proxy.url, '/nope', { headers: [['Origin', NOTEBOOK]] });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers['access-control-allow-origin'], NOTEBOOK);
    },
  );

  test(
    'the official openai SDK (localhost and 127.0.0.1) and our pools work with no new flag',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      for (const base of [proxy.url, `http://localhost:${proxy.port}`]) {
        for (const route of ['/agent/1/v1', '/v1']) {
          const client = new OpenAI({ baseURL: `${base}${route}`, apiKey: 'x', maxRetries: 0 });
          const models = await client.models.list();
          assert.equal(models.data.length, 1, `${base}${route}`);
          const chat = await client.chat.completions.create({
            model: models.data[0]?.id ?? '',
            messages: [{ role: 'user', content: 'Hi' }],
          });
          assert.match(chat.choices[0]?.message.content ?? '', /^Agent \d /);
        }
        await using pool = new VLLMPool({
          endpoints: swarm.endpoints,
          proxyUrl: base,
          maxTokens: 8,
        });
        const answers = await scatterGather(pool, ['a', 'b', 'c', 'd']);
        assert.deepEqual(
          answers.map((answer) => answer.success),
          [true, true, true, true],
          JSON.stringify(answers.map((answer) => answer.error)),
        );
      }
      assert.ok(!proxy.logLines.some((line) => line.includes('refused')), proxy.logLines.join(''));
    },
  );
});
