/**
 * Every agent and client fault against the real proxy process (the built bin), one
 * fault after another, each followed by a healthy request; then the process's file
 * descriptors must come back to where they were and its memory must not have grown
 * out of proportion.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import {
  open,
  proxyUrlOf,
  readChunks,
  responseFailure,
  send,
  spawnProxy,
  writeHostfile,
} from '../proxy/proxy-test-helpers.js';
import {
  describeDescriptors,
  descriptorsSettle,
  HAS_PROC_FD,
  rawExchange,
  residentBytes,
  stableDescriptorCount,
  startRawUpstream,
} from './fault-helpers.js';

// The configured timeouts; every safety net below is derived from them.
const TIMEOUT_SECONDS = 0.4;
const BODY_TIMEOUT_SECONDS = 0.4;
const SAFETY = { timeout: 60_000 };

const CHAT = JSON.stringify({
  model: 'mock-model',
  messages: [{ role: 'user', content: 'hello' }],
});
const STREAM_CHAT = JSON.stringify({
  model: 'mock-model',
  messages: [{ role: 'user', content: 'hello' }],
  stream: true,
});
const JSON_HEADERS: Array<[string, string]> = [['Content-Type', 'application/json']];
// Requests that must not race the short --timeout (healthy agents, passthrough, client
// aborts): a loaded machine can stall the proxy for longer than 0.4 s.
const PATIENT: Array<[string, string]> = [['X-Timeout', '60']];
const PATIENT_JSON = [...JSON_HEADERS, ...PATIENT];

/** A raw upstream's answer: a head and body that are not valid HTTP. */
function rawAnswer(bytes: string): (socket: Socket) => void {
  return (socket) => socket.end(bytes);
}

async function setup(t: TestContext) {
  // Agents 0-6 are mock agents; 7-11 raw servers answering invalid HTTP or trickling.
  const swarm = await startMockSwarm({ count: 7, behavior: { model: 'mock-model' } });
  t.after(() => swarm.close());
  swarm.agents[2]!.setBehavior({ failure: 'hang' });
  swarm.agents[3]!.setBehavior({ failure: 'die-mid-stream', completionTokens: 50 });
  swarm.agents[4]!.setBehavior({ failure: 'status', failureStatus: 500 });
  swarm.agents[5]!.setBehavior({ failure: 'status', failureStatus: 503 });
  swarm.agents[6]!.setBehavior({ failure: 'status', failureStatus: 429 });
  const malformed = [
    await startRawUpstream(t, rawAnswer('HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\nok')),
    await startRawUpstream(
      t,
      rawAnswer('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'),
    ),
    await startRawUpstream(
      t,
      rawAnswer('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\nhello!!'),
    ),
    await startRawUpstream(
      t,
      rawAnswer(
        'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      ),
    ),
  ];
  // Sends a byte every 20 ms, forever, until the proxy goes away.
  const trickle = await startRawUpstream(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n');
    const timer = setInterval(() => socket.write('.'), 20);
    socket.on('close', () => clearInterval(timer));
  });
  const lines = [
    ...swarm.endpoints.map((endpoint) => `127.0.0.1\t${endpoint.port}`),
    ...malformed.map((upstream) => `127.0.0.1\t${upstream.port}`),
    `127.0.0.1\t${trickle.port}`,
  ];
  const hostfile = writeHostfile(t, `${lines.join('\n')}\n`);
  const proxy = spawnProxy(t, [
    '--hostfile',
    hostfile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--timeout',
    String(TIMEOUT_SECONDS),
    '--body-timeout',
    String(BODY_TIMEOUT_SECONDS),
    '--shutdown-grace',
    '0',
  ]);
  const url = await proxyUrlOf(proxy);
  const pid = proxy.child.pid as number;
  return { swarm, malformed, trickle, proxy, url, pid };
}

function errorOf(text: string): string {
  const body = JSON.parse(text) as { error?: unknown };
  assert.equal(typeof body.error, 'string', text);
  return body.error as string;
}

describe('agent and client faults through the real proxy process', () => {
  test('each fault gets its answer, the agent sees the abort, the proxy keeps serving, descriptors return to baseline', {
    ...SAFETY,
    skip: HAS_PROC_FD ? false : 'needs /proc/<pid>/fd (Linux)',
  }, async (t) => {
    const { swarm, malformed, trickle, url, pid } = await setup(t);
    const healthy = async () => {
      const response = await send(url, '/agent/0/v1/chat/completions', {
        method: 'POST',
        headers: PATIENT_JSON,
        body: CHAT,
      });
      assert.equal(response.status, 200, 'the proxy keeps serving the others');
      assert.match(response.text, /Agent 0 /);
    };
    // Baseline: the proxy warmed up (one request), with no connection to any agent left.
    await healthy();
    await swarm.agents[0]!.stop();
    await swarm.agents[0]!.start();
    const baseline = await stableDescriptorCount(pid);
    const baselineRss = residentBytes(pid);

    for (let round = 0; round < 2; round++) {
      // Refused: 502 naming the agent.
      await swarm.agents[1]!.stop();
      const refused = await send(url, '/agent/1/v1/models');
      assert.equal(refused.status, 502);
      assert.equal(errorOf(refused.text), `cannot connect to 127.0.0.1:${swarm.agents[1]!.port}`);
      await swarm.agents[1]!.start();
      await healthy();

      // Hangs before headers: 504 naming the configured timeout; the agent is aborted.
      const hungAbort = swarm.agents[2]!.nextAbort();
      const hung = await send(url, '/agent/2/v1/chat/completions', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: CHAT,
      });
      assert.equal(hung.status, 504);
      assert.equal(errorOf(hung.text), `upstream timeout after ${TIMEOUT_SECONDS}s`);
      await hungAbort;
      await healthy();

      // Dies mid-stream: the client's response is cut, never ended cleanly.
      const dying = open(url, '/agent/3/v1/chat/completions', {
        method: 'POST',
        headers: PATIENT_JSON,
        body: STREAM_CHAT,
      });
      const dyingResponse = await dying.response;
      assert.equal(dyingResponse.statusCode, 200);
      await responseFailure(dyingResponse);
      await healthy();

      // 500, 503 and 429 pass through unchanged, vLLM's error body included.
      for (const [index, status] of [
        [4, 500],
        [5, 503],
        [6, 429],
      ] as const) {
        const answer = await send(url, `/agent/${index}/v1/chat/completions`, {
          method: 'POST',
          headers: PATIENT_JSON,
          body: CHAT,
        });
        assert.equal(answer.status, status);
        const body = JSON.parse(answer.text) as { error: { message: string; code: number } };
        assert.equal(body.error.code, status);
        assert.match(body.error.message, new RegExp(`injected failure on agent ${index}`));
      }
      await healthy();

      // Invalid HTTP from the agent: garbage status, bad chunking, conflicting lengths, CL+TE.
      for (const [offset, upstream] of malformed.entries()) {
        const index = 7 + offset;
        const pending = open(url, `/agent/${index}/v1/models`, { headers: PATIENT });
        const answer = await pending.response;
        if (answer.statusCode === 502) {
          const reader = readChunks(answer);
          assert.equal(
            errorOf((await reader.rest()).toString()),
            `invalid response from 127.0.0.1:${upstream.port}`,
          );
        } else {
          // Bad chunking shows only after the agent's 200 head was relayed: the body is cut.
          assert.equal(answer.statusCode, 200, `agent ${index}`);
          assert.equal(offset, 1, `agent ${index}: expected 502, got ${answer.statusCode}`);
          await responseFailure(answer);
        }
      }
      await healthy();

      // Trickles forever: a flowing stream is never cut by the gap timeout; when the
      // client leaves, the agent sees its connection close.
      const trickling = open(url, '/agent/11/stream');
      const trickleResponse = await trickling.response;
      assert.equal(trickleResponse.statusCode, 200);
      const reader = readChunks(trickleResponse);
      let received = 0;
      // 30 bytes at one every 20 ms outlast the 0.4 s gap timeout.
      while (received < 30) received += (await reader.next()).length;
      const trickleClosed = trickle.nextPeerClose();
      trickling.request.destroy();
      await trickleClosed;
      await healthy();

      // The client leaves mid-request (agent hangs) and mid-stream (agent streaming).
      const leftAbort = swarm.agents[2]!.nextAbort();
      const arrived = swarm.agents[2]!.nextRequest();
      const leaving = open(url, '/agent/2/v1/chat/completions', {
        method: 'POST',
        headers: PATIENT_JSON,
        body: CHAT,
      });
      leaving.response.catch(() => undefined);
      await arrived;
      leaving.request.destroy();
      await leftAbort;
      swarm.agents[0]!.setBehavior({ completionTokens: 100_000, tokenIntervalMs: 2 });
      const streamAbort = swarm.agents[0]!.nextAbort();
      const streaming = open(url, '/agent/0/v1/chat/completions', {
        method: 'POST',
        headers: PATIENT_JSON,
        body: STREAM_CHAT,
      });
      const streamResponse = await streaming.response;
      await readChunks(streamResponse).next();
      streaming.request.destroy();
      await streamAbort;
      swarm.agents[0]!.setBehavior({ completionTokens: undefined, tokenIntervalMs: 0 });
      await healthy();

      // The client sends its body very slowly, then stops: 408 after the body timeout,
      // the agent is aborted.
      const slowAbort = swarm.agents[0]!.nextAbort();
      const slow = await rawExchange(
        Number(new URL(url).port),
        // X-Timeout keeps the upstream timeout out of the way: the body timeout decides.
        'POST /agent/0/v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-Timeout: 60\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${CHAT.length}\r\n\r\n${CHAT.slice(0, 10)}`,
      );
      assert.equal(slow.status, 408);
      assert.match(errorOf(slow.body), /--body-timeout/);
      await slowAbort;
      await healthy();
    }

    const status = JSON.parse((await send(url, '/status')).text) as {
      in_flight: number;
      queued: number;
    };
    assert.equal(status.in_flight, 0);
    assert.equal(status.queued, 0);
    // Idle keep-alive connections to agents are pooled by design; restarting the agents
    // drops them, so what is left open is exactly what the faults leaked.
    for (const agent of swarm.agents) {
      await agent.stop();
      await agent.start();
    }
    for (const upstream of [...malformed, trickle]) await upstream.close();
    const settled = await descriptorsSettle(pid, baseline);
    assert.ok(
      settled <= baseline,
      `${settled} descriptors open, ${baseline} at baseline:\n${describeDescriptors(pid).join('\n')}`,
    );
    // Coarse: two rounds of every fault must not grow the heap out of proportion
    // (drift over time is measured by bench/soak.ts).
    const rss = residentBytes(pid);
    t.diagnostic(
      `descriptors: ${baseline} at baseline, ${settled} after; RSS ${baselineRss} -> ${rss} bytes`,
    );
    assert.ok(rss < baselineRss + 64 * 1024 * 1024, `RSS grew from ${baselineRss} to ${rss} bytes`);
  });
});
