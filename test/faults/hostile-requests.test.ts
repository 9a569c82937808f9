import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { send, startTestProxy } from '../proxy/proxy-test-helpers.js';
import { type Canary, type RawAnswer, rawExchange, startCanary } from './fault-helpers.js';

const SAFETY = { timeout: 20_000 };

/** Two mock agents, a canary on another loopback port, and the proxy in front of the agents. */
async function setup(t: TestContext) {
  const swarm = await startMockSwarm({ count: 2 });
  t.after(() => swarm.close());
  const canary = await startCanary(t);
  const proxy = await startTestProxy(t, swarm.endpoints, {
    headersTimeoutSeconds: 0.5,
    bodyIdleTimeoutSeconds: 0.5,
    maxBodySizeBytes: 4096,
  });
  const forwarded = () => swarm.agents.map((agent) => agent.requests.map((request) => request.url));
  return { swarm, canary, proxy, forwarded };
}

function assertRefused(answer: RawAnswer, expected: number | 'closed', label: string): void {
  if (expected === 'closed') {
    assert.equal(answer.status, undefined, `${label}: expected no answer, got ${answer.text}`);
    assert.ok(answer.closed, `${label}: the connection stays open`);
    return;
  }
  assert.equal(answer.status, expected, `${label}: got ${JSON.stringify(answer.text)}`);
  const error = (JSON.parse(answer.body) as { error?: unknown }).error;
  assert.equal(typeof error, 'string', `${label}: JSON {"error": ...} expected`);
}

function assertCanaryUntouched(canary: Canary): void {
  assert.equal(canary.connections(), 0, 'the canary was contacted');
}

const HEAD = 'Host: 127.0.0.1\r\n';

describe('request smuggling and framing', () => {
  test(
    'ambiguous or malformed framing is a 400 JSON and a closed connection, never forwarded',
    SAFETY,
    async (t) => {
      const { canary, proxy, forwarded } = await setup(t);
      const cases: Array<[string, string]> = [
        [
          'smuggling: CL+TE rejected',
          `POST /agent/0/v1/completions HTTP/1.1\r\n${HEAD}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`,
        ],
        [
          'smuggling: TE+CL rejected',
          `POST /agent/0/v1/completions HTTP/1.1\r\n${HEAD}Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\nG`,
        ],
        [
          'conflicting Content-Length',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
        ],
        [
          'duplicate equal Content-Length',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`,
        ],
        [
          'Content-Length list',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Content-Length: 4, 4\r\n\r\nabcd`,
        ],
        [
          'negative Content-Length',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Content-Length: -1\r\n\r\n`,
        ],
        [
          'hex Content-Length',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Content-Length: 0x4\r\n\r\nabcd`,
        ],
        [
          'obfuscated TE: xchunked',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
        ],
        [
          'obfuscated TE: space before colon',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
        ],
        [
          'obfuscated TE: chunked, identity',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
        ],
        [
          'duplicate TE',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        ],
        [
          'bad chunk size',
          `POST /agent/0/x HTTP/1.1\r\n${HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\nabcd\r\n0\r\n\r\n`,
        ],
        ['bare LF line endings', 'GET /agent/0/v1/models HTTP/1.1\nHost: 127.0.0.1\n\n'],
        ['bare LF in one header', `GET /agent/0/v1/models HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n`],
        ['obsolete line folding', `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}X-A: b\r\n c\r\n\r\n`],
        ['NUL in a header value', `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}X-A: a\x00b\r\n\r\n`],
        ['invalid header name', `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}X(A): a\r\n\r\n`],
        ['tab in the target', `GET /agent/0/a\tb HTTP/1.1\r\n${HEAD}\r\n`],
        ['space in the target', `GET /agent/0/a b HTTP/1.1\r\n${HEAD}\r\n`],
        ['a TLS ClientHello', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03'],
        ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
        ['garbage request line', 'HELLO\r\n\r\n'],
      ];
      for (const [label, bytes] of cases) {
        const answer = await rawExchange(proxy.port, bytes);
        assertRefused(answer, 400, label);
        assert.ok(answer.closed || /connection: close/i.test(answer.text), label);
      }
      assert.deepEqual(forwarded(), [[], []]);
      assertCanaryUntouched(canary);
      assert.equal((await send(proxy.url, '/health')).status, 200);
    },
  );

  test(
    'chunked with leading whitespace is plain chunked: forwarded intact to the hostfile agent',
    SAFETY,
    async (t) => {
      const { swarm, proxy } = await setup(t);
      const answer = await rawExchange(
        proxy.port,
        `POST /agent/1/generate HTTP/1.1\r\n${HEAD}Transfer-Encoding:   chunked\r\nConnection: close\r\n\r\n` +
          '12\r\n{"prompt":"hello"}\r\n0\r\n\r\n',
      );
      assert.equal(answer.status, 200);
      assert.equal(swarm.agents[1]!.requests.at(-1)?.body, '{"prompt":"hello"}');
    },
  );

  test(
    'a pipelined second request is parsed as a request, never relayed as body bytes',
    SAFETY,
    async (t) => {
      const { swarm, proxy } = await setup(t);
      const answer = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}\r\nGET /agent/1/health HTTP/1.1\r\n${HEAD}Connection: close\r\n\r\n`,
      );
      assert.equal(answer.status, 200);
      assert.deepEqual(
        swarm.agents.map((agent) => agent.requests.map((request) => request.url)),
        [['/v1/models'], ['/health']],
      );
    },
  );
});

describe('request targets that try to reach another host', () => {
  test(
    'absolute-form, authority-form, @, encoded and malformed indices never leave the hostfile',
    SAFETY,
    async (t) => {
      const { canary, proxy, forwarded } = await setup(t);
      const evil = `127.0.0.1:${canary.port}`;
      const refused: Array<[string, number | 'closed']> = [
        [`GET http://${evil}/ HTTP/1.1\r\nHost: ${evil}\r\n\r\n`, 404],
        [`GET http://${evil}/agent/0/v1/models HTTP/1.1\r\nHost: ${evil}\r\n\r\n`, 404],
        // Refused by the Host check before routing (it would be a 404 anyway).
        [`GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n`, 403],
        [`CONNECT ${evil} HTTP/1.1\r\nHost: ${evil}\r\n\r\n`, 'closed'],
        [`CONNECT evil:80 HTTP/1.1\r\nHost: evil:80\r\n\r\n`, 'closed'],
        [`OPTIONS * HTTP/1.1\r\n${HEAD}\r\n`, 404],
        [`GET /agent/0@${evil}/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/${evil}/v1/models HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/%30/v1/models HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/0x1/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/-1/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/+1/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/1e3/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/1.0/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/2/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/4294967296/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent/${'9'.repeat(400)}/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent//0/v1/models HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET /agent HTTP/1.1\r\n${HEAD}\r\n`, 400],
        [`GET //agent/0/v1/models HTTP/1.1\r\n${HEAD}\r\n`, 404],
        [`GET /AGENT/0/v1/models HTTP/1.1\r\n${HEAD}\r\n`, 404],
        [`GET /%61gent/0/v1/models HTTP/1.1\r\n${HEAD}\r\n`, 404],
        [`GET /./agent/0/v1/models HTTP/1.1\r\n${HEAD}\r\n`, 404],
        [`GET ${evil}/agent/0/ HTTP/1.1\r\n${HEAD}\r\n`, 400],
      ];
      for (const [bytes, expected] of refused) {
        assertRefused(await rawExchange(proxy.port, bytes), expected, JSON.stringify(bytes));
      }
      assert.deepEqual(forwarded(), [[], []]);
      assertCanaryUntouched(canary);
    },
  );

  test(
    'dot segments, encoded slashes and leading zeros stay on the named hostfile agent, byte for byte',
    SAFETY,
    async (t) => {
      const { swarm, canary, proxy } = await setup(t);
      const forwardedTo: Array<[string, number, string]> = [
        ['/agent/0/..%2f..%2fetc/passwd', 0, '/..%2f..%2fetc/passwd'],
        ['/agent/0/../../x', 0, '/../../x'],
        ['/agent/1/%2e%2e/%2e%2e/', 1, '/%2e%2e/%2e%2e/'],
        ['/agent/0//evil.example/x', 0, '//evil.example/x'],
        [`/agent/0/http://127.0.0.1:${canary.port}/`, 0, `/http://127.0.0.1:${canary.port}/`],
        ['/agent/1?@evil.example', 1, '/?@evil.example'],
        // Decided: leading zeros are still the decimal index (00 is agent 0, 01 agent 1).
        ['/agent/00/v1/models', 0, '/v1/models'],
        ['/agent/01/v1/models', 1, '/v1/models'],
      ];
      for (const [target, index, path] of forwardedTo) {
        const before = swarm.agents[index]!.stats.requests;
        await rawExchange(proxy.port, `GET ${target} HTTP/1.1\r\n${HEAD}Connection: close\r\n\r\n`);
        assert.equal(swarm.agents[index]!.stats.requests, before + 1, target);
        assert.equal(swarm.agents[index]!.requests.at(-1)?.url, path, target);
      }
      assertCanaryUntouched(canary);
    },
  );

  test('Host header games: the agent always gets its own host:port', SAFETY, async (t) => {
    const { swarm, canary, proxy } = await setup(t);
    const evil = `127.0.0.1:${canary.port}`;
    const agent = swarm.agents[0]!;
    const heads = [
      `Host: ${evil}\r\n`,
      `Host: ${evil}\r\nHost: evil.example\r\n`,
      'Host: \r\n',
      `Host: 127.0.0.1:${agent.port}@${evil}\r\n`,
      `X-Forwarded-Host: ${evil}\r\nForwarded: host=${evil}\r\nHost: ${evil}\r\n`,
    ];
    for (const head of heads) {
      const answer = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${head}Connection: close\r\n\r\n`,
      );
      if (answer.status !== 200) {
        assert.ok(answer.status === 400 || answer.closed, head);
        continue;
      }
      assert.equal(agent.requests.at(-1)?.headers.host, `127.0.0.1:${agent.port}`, head);
    }
    // HTTP/1.0 without any Host header is forwarded with the agent's Host too.
    const http10 = await rawExchange(proxy.port, 'GET /agent/0/v1/models HTTP/1.0\r\n\r\n');
    assert.equal(http10.status, 200);
    assert.equal(agent.requests.at(-1)?.headers.host, `127.0.0.1:${agent.port}`);
    assertCanaryUntouched(canary);
  });

  test(
    'Upgrade/WebSocket attempts are answered as plain HTTP; no tunnel is ever opened',
    SAFETY,
    async (t) => {
      const { swarm, canary, proxy } = await setup(t);
      const answer = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}Connection: Upgrade\r\nUpgrade: websocket\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      assert.equal(answer.status, 200);
      assert.doesNotMatch(answer.text, /^HTTP\/1\.1 101/);
      const recorded = swarm.agents[0]!.requests.at(-1)!;
      assert.equal(recorded.headers.upgrade, undefined);
      assert.doesNotMatch(String(recorded.headers.connection ?? ''), /upgrade/i);
      // What follows an upgrade request is parsed as HTTP, not relayed.
      const followed = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n` +
          `GET http://127.0.0.1:${canary.port}/ HTTP/1.1\r\n${HEAD}\r\n`,
      );
      assert.equal(followed.status, 200);
      assertCanaryUntouched(canary);
    },
  );
});

describe('web pages: DNS rebinding and cross-site requests', () => {
  test(
    'DNS rebinding: a foreign Host is 403 on every route before anything runs; local names still pass',
    SAFETY,
    async (t) => {
      const { canary, proxy, forwarded } = await setup(t);
      const rebound = (target: string, host: string) =>
        rawExchange(
          proxy.port,
          `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
      for (const target of [
        '/agent/0/v1/models',
        '/v1/models',
        '/status',
        '/',
        '/health',
        '/hosts',
        '/metrics',
        '/agent/9/x',
      ]) {
        for (const host of [
          `attacker.example:${proxy.port}`,
          'attacker.example',
          `127.0.0.1.nip.example:${proxy.port}`,
          `localhost.attacker.example:${proxy.port}`,
          'ATTACKER.EXAMPLE:80',
        ]) {
          const answer = await rebound(target, host);
          assertRefused(answer, 403, `${target} Host: ${host}`);
          assert.match(answer.body, /DNS-rebinding/);
        }
      }
      // Malformed, doubled: 400.
      for (const head of [
        `Host: localhost:${proxy.port}\r\nHost: attacker.example\r\n`,
        'Host: localhost:90x\r\n',
        `Host: [::1\r\n`,
      ]) {
        assertRefused(
          await rawExchange(
            proxy.port,
            `GET /agent/0/v1/models HTTP/1.1\r\n${head}Connection: close\r\n\r\n`,
          ),
          400,
          head,
        );
      }
      assert.deepEqual(forwarded(), [[], []]);
      // What the tunnel, curl and the SDKs send still reaches the agent.
      for (const host of ['localhost:9090', `127.0.0.1:${proxy.port}`, '[::1]:9090', 'localhost']) {
        assert.equal((await rebound('/agent/0/v1/models', host)).status, 200, host);
      }
      assertCanaryUntouched(canary);
    },
  );

  test(
    'cross-site: a foreign Origin is 403 (simple text/plain and form POSTs, JSON, preflights), nothing forwarded',
    SAFETY,
    async (t) => {
      const { canary, proxy, forwarded } = await setup(t);
      const body = '{"prompt": "run on the user\'s GPUs"}';
      for (const target of [
        '/agent/0/v1/completions',
        '/v1/completions',
        '/agent/1/generate',
        '/status',
      ]) {
        for (const type of [
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/json',
        ]) {
          for (const origin of [
            'https://attacker.example',
            'null',
            `http://127.0.0.1:${canary.port}`,
          ]) {
            const answer = await rawExchange(
              proxy.port,
              `POST ${target} HTTP/1.1\r\n${HEAD}Origin: ${origin}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
            );
            assertRefused(answer, 403, `${target} ${type} ${origin}`);
            assert.doesNotMatch(answer.text, /access-control-allow-origin/i);
          }
        }
      }
      const preflight = await rawExchange(
        proxy.port,
        `OPTIONS /agent/0/v1/completions HTTP/1.1\r\n${HEAD}Origin: https://attacker.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n`,
      );
      assertRefused(preflight, 403, 'foreign preflight');
      assert.doesNotMatch(preflight.text, /access-control-/i);
      // Fetch Metadata without Origin: a cross-site <img> or <script> is refused too.
      const image = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: image\r\n\r\n`,
      );
      assertRefused(image, 403, 'cross-site image');
      assert.deepEqual(forwarded(), [[], []]);
      assertCanaryUntouched(canary);
    },
  );
});

describe('oversized and slow requests', () => {
  test(
    'an oversized head is a 431 JSON, thousands of headers a 431 JSON, neither forwarded',
    SAFETY,
    async (t) => {
      const { proxy, forwarded } = await setup(t);
      const big = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}X-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`,
      );
      assertRefused(big, 431, 'oversized header');
      assert.match(big.body, /--max-header-size/);
      const longTarget = await rawExchange(
        proxy.port,
        `GET /agent/0/${'a'.repeat(70 * 1024)} HTTP/1.1\r\n${HEAD}\r\n`,
      );
      assertRefused(longTarget, 431, 'oversized target');
      let many = '';
      for (let index = 0; index < 3000; index++) many += `X-${index}: v\r\n`;
      const thousands = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}${many}\r\n`,
      );
      assertRefused(thousands, 431, 'thousands of headers');
      assert.match(thousands.body, /too many header lines/);
      assert.deepEqual(forwarded(), [[], []]);
    },
  );

  test(
    'a body over --max-body-size is 413: declared up front, or counted while chunked',
    SAFETY,
    async (t) => {
      const { swarm, proxy } = await setup(t);
      const declared = await rawExchange(
        proxy.port,
        `POST /agent/0/v1/completions HTTP/1.1\r\n${HEAD}Content-Length: 4097\r\n\r\n`,
      );
      assertRefused(declared, 413, 'declared');
      assert.match(declared.body, /at most 4096 bytes \(--max-body-size\)/);
      assert.equal(swarm.agents[0]!.stats.requests, 0);

      // Chunked: the agent already has the request when the cap is crossed; it is aborted.
      const agent = swarm.agents[0]!;
      const aborted = agent.nextAbort();
      const chunk = 'a'.repeat(1024);
      const chunked = await rawExchange(
        proxy.port,
        `POST /agent/0/v1/completions HTTP/1.1\r\n${HEAD}Transfer-Encoding: chunked\r\n\r\n400\r\n${chunk}\r\n`,
        (socket) => {
          void (async () => {
            while (agent.stats.requests === 0)
              await new Promise((resolve) => setImmediate(resolve));
            for (let index = 0; index < 4; index++) socket.write(`400\r\n${chunk}\r\n`);
          })();
        },
      );
      assertRefused(chunked, 413, 'chunked');
      await aborted;
      // Exactly the limit is fine.
      const body = JSON.stringify({ prompt: 'x'.repeat(4096 - 13) });
      assert.equal(body.length, 4096);
      const atLimit = await send(proxy.url, '/agent/1/generate', { method: 'POST', body });
      assert.equal(atLimit.status, 200);
    },
  );

  test(
    'slowloris: a head that never completes gets 408 JSON and the connection closed',
    SAFETY,
    async (t) => {
      const { proxy, forwarded } = await setup(t);
      const silent = await rawExchange(proxy.port, `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}`);
      assertRefused(silent, 408, 'partial head');
      assert.match(silent.body, /within 0\.5s \(--headers-timeout\)/);
      assert.match(silent.text, /\r\nconnection: close\r\n/i);
      // Trickling header lines does not extend the deadline: it bounds the whole head.
      let trickle: NodeJS.Timeout | undefined;
      const trickled = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}`,
        (socket) => {
          let line = 0;
          trickle = setInterval(() => {
            if (!socket.destroyed) socket.write(`X-${line++}: a\r\n`);
          }, 50);
        },
      );
      clearInterval(trickle);
      assertRefused(trickled, 408, 'trickled head');
      const idle = await rawExchange(proxy.port, '');
      assert.ok(idle.status === 408 || (idle.closed && idle.status === undefined), idle.text);
      assert.deepEqual(forwarded(), [[], []]);
    },
  );

  test(
    'slowloris: a body that stalls gets 408 JSON within the body timeout and the agent is aborted',
    SAFETY,
    async (t) => {
      const { swarm, proxy } = await setup(t);
      const aborted = swarm.agents[0]!.nextAbort();
      const answer = await rawExchange(
        proxy.port,
        `POST /agent/0/v1/completions HTTP/1.1\r\n${HEAD}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"prompt":`,
      );
      assertRefused(answer, 408, 'stalled body');
      assert.match(answer.body, /sent nothing for 0\.5s \(--body-timeout\)/);
      assert.ok(answer.closed || /connection: close/i.test(answer.text));
      await aborted;
      assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 200);
    },
  );

  test(
    'slowloris on /v1: a small body the proxy buffers for retries still gets 408 when it stalls',
    SAFETY,
    async (t) => {
      const { swarm, proxy } = await setup(t);
      const answer = await rawExchange(
        proxy.port,
        `POST /v1/completions HTTP/1.1\r\n${HEAD}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"prompt":`,
      );
      assertRefused(answer, 408, 'stalled buffered body');
      assert.match(answer.body, /sent nothing for 0\.5s \(--body-timeout\)/);
      assert.ok(answer.closed || /connection: close/i.test(answer.text));
      assert.equal(swarm.agents[0]!.stats.requests + swarm.agents[1]!.stats.requests, 0);
      assert.equal((await send(proxy.url, '/v1/models')).status, 200);
    },
  );

  test('invalid X-Timeouts are 400 and never forwarded', SAFETY, async (t) => {
    const { proxy, forwarded } = await setup(t);
    for (const value of ['NaN', 'Infinity', '-1', '1e309', '0x10', '0b1', '1_000', '']) {
      const answer = await rawExchange(
        proxy.port,
        `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}X-Timeout: ${value}\r\nConnection: close\r\n\r\n`,
      );
      assertRefused(answer, 400, value);
    }
    assert.deepEqual(forwarded(), [[], []]);
  });
});

describe('Expect: 100-continue', () => {
  // Node answers the expectation itself (100 Continue) before the proxy sees the request;
  // the final answer follows on the same kept-alive connection. (The fuzz found a request
  // like the second one; the raw client then waited for the 65 s keep-alive to end.)
  test(
    'an interim 100 Continue is followed by the final answer on the open connection',
    SAFETY,
    async (t) => {
      const { canary, proxy, forwarded } = await setup(t);
      const cases: Array<[string, string, number]> = [
        [
          'forwarded',
          `GET /agent/0/v1/models HTTP/1.1\r\n${HEAD}Expect: 100-continue\r\n\r\n`,
          200,
        ],
        [
          'refused',
          `DELETE /agent/0/&\\ HTTP/1.1\r\nX-Timeout: NaN\r\nExpect: 100-continue\r\n${HEAD}\r\n`,
          400,
        ],
      ];
      for (const [label, bytes, status] of cases) {
        const answer = await rawExchange(proxy.port, bytes);
        assert.match(answer.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 /, label);
        assert.equal(answer.status, status, `${label}: ${JSON.stringify(answer.text)}`);
        assert.equal(answer.closed, false, `${label}: the connection stays open`);
      }
      assert.deepEqual(forwarded(), [['/v1/models'], []]);
      assertCanaryUntouched(canary);
    },
  );
});
