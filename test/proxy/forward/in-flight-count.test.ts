/**
 * `/status` `in_flight` (the proxy's and each agent's) read right after an exchange ended
 * from the client's side: 0, not 1 until the upstream socket's close comes round (a
 * script that checks the proxy after its scatter reads it at once). No sleeps: each
 * read follows the event it is about (an answer, a request arriving at the agent).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import { send, startTestProxy } from '../proxy-test-helpers.js';

const SAFETY = { timeout: 30_000 };
const ROUNDS = 20;

interface InFlight {
  in_flight: number;
  endpoints: { in_flight: number }[];
}

/** The proxy's and agent 0's in-flight counts, on a fresh connection. */
async function inFlight(url: string): Promise<[number, number]> {
  const body = JSON.parse((await send(url, '/status')).text) as InFlight;
  return [body.in_flight, body.endpoints[0]!.in_flight];
}

/** The same read on `agent`'s kept-alive connection (open before the client left). */
function inFlightOn(agent: Agent, port: number): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, path: '/status', agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => {
        const body = JSON.parse(text) as InFlight;
        resolve([body.in_flight, body.endpoints[0]!.in_flight]);
      });
    });
    sent.on('error', reject);
    sent.end();
  });
}

/**
 * Rounds of: a request the hanging agent holds, then its client leaves; `read` (the
 * proxy's and agent 0's in_flight) must say 1 while it is held and 0 right after.
 */
async function leaveAndRead(
  t: TestContext,
  read: (proxyUrl: string) => Promise<[number, number]>,
): Promise<void> {
  const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'hang' } });
  t.after(() => swarm.close());
  const proxy = await startTestProxy(t, swarm.endpoints, { timeoutSeconds: 30 });
  for (let round = 0; round < ROUNDS; round++) {
    const arrived = swarm.agents[0]!.nextRequest();
    const client = connect(proxy.port, '127.0.0.1');
    await once(client, 'connect');
    client.write('GET /agent/0/v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await arrived;
    assert.deepEqual(await read(proxy.url), [1, 1], `round ${round}: held`);
    client.destroy();
    assert.deepEqual(await read(proxy.url), [0, 0], `round ${round}: after the client left`);
  }
}

describe('in_flight right after an exchange ends', () => {
  test('a client that leaves a request its agent holds: 0 at the next /status', SAFETY, (t) =>
    leaveAndRead(t, inFlight),
  );

  test('the same, read on a connection that was already open when the client left', SAFETY, (t) => {
    // The proxy reads the client's FIN before a request sent after it on the other
    // connection, but sees the client's socket closed only later.
    const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => keptAlive.destroy());
    return leaveAndRead(t, (proxyUrl) => inFlightOn(keptAlive, Number(new URL(proxyUrl).port)));
  });

  test('an agent that never answers: 0 as soon as the 504 is in', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'hang' } });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { timeoutSeconds: 0.05 });
    for (let round = 0; round < ROUNDS; round++) {
      assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 504);
      assert.deepEqual(await inFlight(proxy.url), [0, 0], `round ${round}`);
    }
  });
});
