/**
 * The proxy's connections to the agents: a client that leaves takes its exchange's
 * upstream connection with it and nothing is opened in its place (counted on the real
 * proxy process, /proc/<pid>/fd, and at the agent, accepted connections); idle
 * connections are bounded per agent (`--max-idle-per-agent`).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import {
  proxyUrlOf,
  send,
  spawnProxy,
  startUpstream,
  type TestUpstream,
  writeHostfile,
} from '../proxy-test-helpers.js';

const SAFETY = { timeout: 60_000 };
const IS_LINUX = process.platform === 'linux';

/** An agent streaming SSE events every 20 ms until its client leaves; counts connections. */
async function streamingAgent(t: Parameters<typeof startUpstream>[0]) {
  const counts = { accepted: 0, open: 0, requests: 0, aborted: 0 };
  const upstream = await startUpstream(t, (request, response) => {
    counts.requests++;
    if (request.url === '/health') {
      response.end('{}');
      return;
    }
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"n":0}\n\n');
      const timer = setInterval(() => response.write('data: {"n":1}\n\n'), 20);
      response.on('close', () => clearInterval(timer));
    });
  });
  upstream.events.on('aborted', () => counts.aborted++);
  upstream.server.on('connection', (socket: Socket) => {
    counts.accepted++;
    counts.open++;
    socket.on('close', () => counts.open--);
  });
  return { upstream, counts };
}

/** One streamed request through the proxy whose client leaves at its first bytes. */
function leaveAfterFirstBytes(port: number): Promise<string> {
  const body = '{"messages":[{"role":"user","content":"hi"}],"stream":true}';
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /agent/0/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    socket.once('data', (data: Buffer) => {
      socket.destroy();
      resolve(data.toString('latin1').split('\r\n', 1)[0] ?? '');
    });
    socket.once('error', reject);
  });
}

/** Check `predicate` every 10 ms until it holds (the test's timeout bounds the wait). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function startProxyProcess(
  t: Parameters<typeof startUpstream>[0],
  upstream: TestUpstream,
  extraArgs: string[] = [],
) {
  const hostfile = writeHostfile(t, `127.0.0.1\t${upstream.port}\n`);
  const proxy = spawnProxy(t, [
    '--hostfile',
    hostfile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--health-interval',
    '0',
    ...extraArgs,
  ]);
  const url = await proxyUrlOf(proxy);
  const pid = proxy.child.pid as number;
  return {
    url,
    port: Number(new URL(url).port),
    descriptors: () => readdirSync(`/proc/${pid}/fd`).length,
  };
}

describe('upstream connections', () => {
  test('500 clients that leave mid-stream leave no upstream connection behind, and none is opened in their place', {
    ...SAFETY,
    skip: IS_LINUX ? false : 'counts /proc/<pid>/fd (Linux)',
  }, async (t) => {
    const { upstream, counts } = await streamingAgent(t);
    const proxy = await startProxyProcess(t, upstream);
    // The first exchange creates whatever is created lazily; count from there.
    assert.equal(await leaveAfterFirstBytes(proxy.port), 'HTTP/1.1 200 OK');
    await until(() => counts.aborted === 1 && counts.open === 0);
    const descriptorsBefore = proxy.descriptors();
    const clients = 500;
    const statuses = await Promise.all(
      Array.from({ length: clients }, () => leaveAfterFirstBytes(proxy.port)),
    );
    assert.deepEqual(new Set(statuses), new Set(['HTTP/1.1 200 OK']));
    // Every stream was aborted at the agent, and its connection closed.
    await until(() => counts.aborted === clients + 1 && counts.open === 0);
    // One connection per request, none that carried nothing.
    assert.equal(counts.requests, clients + 1);
    assert.equal(counts.accepted, clients + 1);
    // The proxy holds no more descriptors than before (its client sockets are closed too).
    await until(() => proxy.descriptors() <= descriptorsBefore);
    // A later request still works (on a fresh connection: nothing idle was kept).
    const after = await send(proxy.url, '/agent/0/health');
    assert.equal(after.status, 200);
    assert.equal(counts.accepted, clients + 2);
    assert.equal(counts.open, 1);
  });

  test('idle connections to an agent are bounded by --max-idle-per-agent', SAFETY, async (t) => {
    let accepted = 0;
    let open = 0;
    const release: (() => void)[] = [];
    const upstream = await startUpstream(t, (_request, response) => {
      // Hold every answer until all requests are in: one connection each.
      release.push(() => response.end('{}'));
    });
    upstream.server.on('connection', (socket: Socket) => {
      accepted++;
      open++;
      socket.on('close', () => open--);
    });
    const proxy = await startProxyProcess(t, upstream, ['--max-idle-per-agent', '3']);
    const answers = Array.from({ length: 10 }, () => send(proxy.url, '/agent/0/v1/models'));
    await until(() => release.length === 10);
    assert.equal(accepted, 10);
    for (const answer of release) answer();
    for (const answer of await Promise.all(answers)) assert.equal(answer.status, 200);
    // Ten connections finished their request; three stay for the next ones.
    await until(() => open === 3);
    const again = Array.from({ length: 3 }, () => send(proxy.url, '/agent/0/v1/models'));
    await until(() => release.length === 13);
    for (const answer of release.slice(10)) answer();
    for (const answer of await Promise.all(again)) assert.equal(answer.status, 200);
    assert.equal(accepted, 10, 'the three idle connections were reused');
  });
});
