import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import { open, readChunks, send, startTestProxy, startUpstream } from '../proxy-test-helpers.js';

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An upstream that answers with what it received: method, url, raw headers, body digest. */
function echo(request: IncomingMessage, response: ServerResponse): void {
  const hash = createHash('sha256');
  let length = 0;
  request.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    length += chunk.length;
  });
  request.on('end', () => {
    const body = JSON.stringify({
      method: request.method,
      url: request.url,
      rawHeaders: request.rawHeaders,
      bodyLength: length,
      bodySha256: hash.digest('hex'),
    });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(body);
  });
}

interface Echoed {
  method: string;
  url: string;
  rawHeaders: string[];
  bodyLength: number;
  bodySha256: string;
}

function headerNames(rawHeaders: string[]): string[] {
  return rawHeaders.filter((_, index) => index % 2 === 0).map((name) => name.toLowerCase());
}

describe('forwarding', () => {
  test('path and query are forwarded byte for byte (%2F, .., //, encoded UTF-8)', async (t) => {
    const upstream = await startUpstream(t, echo);
    const proxy = await startTestProxy(t, [upstream.endpoint]);
    const cases: Array<[string, string]> = [
      ['/agent/0/a%2Fb/../c?x=%2F&y=a+b&z=%E2%9C%93', '/a%2Fb/../c?x=%2F&y=a+b&z=%E2%9C%93'],
      ['/agent/0/../../etc/passwd', '/../../etc/passwd'],
      ['/agent/0//double//slash/', '//double//slash/'],
      ['/agent/0/v1/models?', '/v1/models?'],
      ['/agent/0', '/'],
      ['/agent/0?q=1', '/?q=1'],
    ];
    for (const [path, expected] of cases) {
      const response = await send(proxy.url, path);
      assert.equal(response.status, 200, path);
      assert.equal((JSON.parse(response.text) as Echoed).url, expected, path);
    }
  });

  test('hop-by-hop headers, X-Timeout and the client Host are not forwarded; Authorization is', async (t) => {
    const upstream = await startUpstream(t, echo);
    const proxy = await startTestProxy(t, [upstream.endpoint]);
    const response = await send(proxy.url, '/agent/0/v1/models', {
      headers: [
        // A name of the proxy, but not the agent's: the agent gets its own.
        ['Host', 'localhost:1234'],
        ['Authorization', 'Bearer vllm-api-key'],
        ['Connection', 'keep-alive, X-Listed-Hop'],
        ['X-Listed-Hop', 'secret'],
        ['Keep-Alive', 'timeout=5'],
        ['Proxy-Authorization', 'Bearer proxy-only'],
        ['Proxy-Connection', 'keep-alive'],
        ['TE', 'trailers'],
        ['Upgrade', 'websocket'],
        ['X-Timeout', '30'],
        ['X-Custom-Header', 'Kept As Is'],
        ['Accept', 'application/json'],
      ],
    });
    assert.equal(response.status, 200);
    const echoed = JSON.parse(response.text) as Echoed;
    const names = headerNames(echoed.rawHeaders);
    for (const name of [
      'x-listed-hop',
      'keep-alive',
      'proxy-authorization',
      'proxy-connection',
      'te',
      'upgrade',
      'x-timeout',
    ]) {
      assert.ok(!names.includes(name), `${name} must not reach the agent`);
    }
    const headers = new Map<string, string>();
    for (let index = 0; index < echoed.rawHeaders.length; index += 2) {
      headers.set(
        (echoed.rawHeaders[index] as string).toLowerCase(),
        echoed.rawHeaders[index + 1] as string,
      );
    }
    assert.equal(headers.get('host'), `127.0.0.1:${upstream.port}`);
    assert.equal(headers.get('authorization'), 'Bearer vllm-api-key');
    assert.equal(headers.get('x-custom-header'), 'Kept As Is');
    assert.equal(headers.get('accept'), 'application/json');
    assert.ok(echoed.rawHeaders.includes('X-Custom-Header'), 'header names keep their case');
    assert.equal(names.filter((name) => name === 'host').length, 1);
  });

  test('response hop-by-hop headers are dropped; status, reason, other headers and body pass unchanged', async (t) => {
    const body = Buffer.from('{"object":"error","message":"teapot","code":418}');
    const upstream = await startUpstream(t, (_request, response) => {
      response.writeHead(418, 'Short And Stout', [
        'Content-Type',
        'application/json',
        'Content-Length',
        String(body.length),
        'Keep-Alive',
        'timeout=5',
        'Connection',
        'X-Resp-Hop',
        'X-Resp-Hop',
        'hidden',
        'Proxy-Authenticate',
        'Basic',
        'Upgrade',
        'h2c',
        'X-Kept',
        'yes',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
      ]);
      response.end(body);
    });
    const proxy = await startTestProxy(t, [upstream.endpoint]);
    const response = await send(proxy.url, '/agent/0/x');
    assert.equal(response.status, 418);
    assert.equal(response.statusMessage, 'Short And Stout');
    assert.deepEqual(response.body, body);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.equal(response.headers['x-kept'], 'yes');
    assert.deepEqual(response.headers['set-cookie'], ['a=1', 'b=2']);
    for (const name of ['x-resp-hop', 'proxy-authenticate', 'upgrade']) {
      assert.equal(response.headers[name], undefined, name);
    }
    assert.notEqual(response.headers['keep-alive'], 'timeout=5');
  });

  test("agent error statuses and bodies pass through unchanged (vLLM's error JSON)", async (t) => {
    const swarm = await startMockSwarm({
      count: 1,
      behavior: { failure: 'status', failureStatus: 503 },
    });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const direct = await send(swarm.agents[0]!.url, '/v1/models');
    const proxied = await send(proxy.url, '/agent/0/v1/models');
    assert.equal(proxied.status, 503);
    assert.equal(proxied.status, direct.status);
    assert.deepEqual(
      { ...(JSON.parse(proxied.text) as object), message: '' },
      { ...(JSON.parse(direct.text) as object), message: '' },
    );
    assert.equal(
      (JSON.parse(proxied.text) as { error: { type: string } }).error.type,
      'ServiceUnavailableError',
    );
  });

  test('a 5 MiB request body and an 8 MiB response body pass intact', async (t) => {
    const big = randomBytes(8 * 1024 * 1024);
    const upstream = await startUpstream(t, (request, response) => {
      if (request.url === '/download') {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.end(big);
        return;
      }
      echo(request, response);
    });
    const proxy = await startTestProxy(t, [upstream.endpoint]);
    const prompt = randomBytes(5 * 1024 * 1024);
    const upload = await send(proxy.url, '/agent/0/v1/completions', {
      method: 'POST',
      headers: [['Content-Type', 'application/octet-stream']],
      body: prompt,
    });
    assert.equal(upload.status, 200);
    const echoed = JSON.parse(upload.text) as Echoed;
    assert.equal(echoed.bodyLength, prompt.length);
    assert.equal(echoed.bodySha256, sha256(prompt));

    const download = await send(proxy.url, '/agent/0/download');
    assert.equal(download.status, 200);
    assert.equal(download.body.length, big.length);
    assert.equal(sha256(download.body), sha256(big));
  });

  test('a chunked request body (no Content-Length) is streamed through', async (t) => {
    const upstream = await startUpstream(t, echo);
    const proxy = await startTestProxy(t, [upstream.endpoint]);
    const parts = [randomBytes(1000), randomBytes(70_000), randomBytes(3)];
    const streamed = open(proxy.url, '/agent/0/upload', {
      method: 'POST',
      headers: [['Transfer-Encoding', 'chunked']],
      body: Buffer.concat(parts),
    });
    const answer = await streamed.response;
    const chunks: Buffer[] = [];
    for await (const chunk of answer) chunks.push(chunk as Buffer);
    const echoed = JSON.parse(Buffer.concat(chunks).toString()) as Echoed;
    assert.equal(echoed.bodySha256, sha256(Buffer.concat(parts)));
    assert.ok(headerNames(echoed.rawHeaders).includes('transfer-encoding'));
  });

  test('SSE: each chunk reaches the client before the agent sends the next one', async (t) => {
    const chunkCount = 5;
    const released: Array<() => void> = [];
    const gates = Array.from(
      { length: chunkCount },
      () => new Promise<void>((resolve) => released.push(resolve)),
    );
    const upstream = await startUpstream(t, async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.flushHeaders();
      for (let index = 0; index < chunkCount; index++) {
        await gates[index];
        response.write(`data: {"token":${index}}\n\n`);
      }
      response.end('data: [DONE]\n\n');
    });
    const proxy = await startTestProxy(t, [upstream.endpoint]);
    const { response } = open(proxy.url, '/agent/0/v1/chat/completions', {
      method: 'POST',
      body: '{"stream":true}',
    });
    // Headers arrive before any event is produced.
    const answer = await response;
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.headers['content-type'], 'text/event-stream');
    assert.equal(answer.headers['x-accel-buffering'], 'no');
    const reader = readChunks(answer);
    for (let index = 0; index < chunkCount; index++) {
      released[index]?.();
      // The agent cannot send chunk index + 1 before this resolves: its gate is still shut.
      assert.equal((await reader.next()).toString(), `data: {"token":${index}}\n\n`);
    }
    assert.equal((await reader.rest()).toString(), 'data: [DONE]\n\n');
  });

  test('streamed chat completions from a simulated agent arrive complete', async (t) => {
    const swarm = await startMockSwarm({ count: 2, behavior: { completionTokens: 20 } });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const response = await send(proxy.url, '/agent/1/v1/chat/completions', {
      method: 'POST',
      headers: [['Content-Type', 'application/json']],
      body: JSON.stringify({
        model: 'meta-llama/Llama-3.1-70B-Instruct',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers['x-accel-buffering'], 'no');
    const events = response.text.split('\n\n').filter((block) => block.startsWith('data: '));
    assert.equal(events.at(-1), 'data: [DONE]');
    const text = events
      .slice(0, -1)
      .map(
        (event) =>
          (JSON.parse(event.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
            .choices[0]?.delta.content ?? '',
      )
      .join('');
    assert.match(text, /^Agent 1 /);
  });

  test('a client that stops reading makes the proxy stop reading the agent (bounded buffering)', async (t) => {
    const offeredBytes = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 120);
    let writtenBytes = 0;
    const upstream = await startUpstream(t, async (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      while (writtenBytes < offeredBytes && !response.destroyed) {
        writtenBytes += chunk.length;
        if (!response.write(chunk)) await once(response, 'drain').catch(() => undefined);
      }
      response.end();
    });
    const proxy = await startTestProxy(t, [upstream.endpoint]);
    const { request, response } = open(proxy.url, '/agent/0/flood');
    const answer = await response;
    answer.pause();
    // Wait until the agent can no longer make progress: three polls without change.
    let previous = -1;
    let unchanged = 0;
    while (unchanged < 3) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      unchanged = writtenBytes === previous ? unchanged + 1 : 0;
      previous = writtenBytes;
    }
    assert.ok(
      writtenBytes < 64 * 1024 * 1024,
      `the agent wrote ${writtenBytes} bytes to a client that reads nothing`,
    );
    const aborted = once(upstream.events, 'aborted');
    request.destroy();
    await aborted;
  });
});
