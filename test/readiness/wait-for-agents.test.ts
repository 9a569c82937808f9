/**
 * waitForAgents against real sockets: what it reports for the agents that never became ready.
 */
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { waitForAgents } from '../../src/readiness/wait-for-agents.js';

/** A server on a free port, closed after the test; resolves its port. */
async function listen(t: TestContext, handler: RequestListener): Promise<number> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

describe('waitForAgents', () => {
  test('a probe the deadline cuts short does not replace the reason an earlier probe gave', async (t) => {
    // Answers 503 to the first probe, then holds every later one without answering.
    const held: ServerResponse[] = [];
    let probes = 0;
    const port = await listen(t, (_request, response) => {
      probes++;
      if (probes === 1) {
        response.writeHead(503).end();
        return;
      }
      held.push(response);
    });
    const result = await waitForAgents({
      endpoints: [createEndpoint('127.0.0.1', port)],
      minReady: 1,
      // Long enough for a second probe to reach the agent on a loaded machine.
      timeoutMs: 4000,
      intervalMs: 10,
      // Longer than the whole wait: the second probe is cut by the deadline, not by its own timeout.
      probeTimeoutMs: 60_000,
    });
    assert.equal(result.targetMet, false);
    assert.ok(probes >= 2, 'a second probe was sent and held');
    assert.deepEqual(
      result.notReady.map((agent) => agent.lastError),
      ['HTTP 503'],
    );
  });

  test('an agent that only ever timed out reports the timeout', async (t) => {
    const port = await listen(t, () => undefined);
    const result = await waitForAgents({
      endpoints: [createEndpoint('127.0.0.1', port)],
      minReady: 1,
      timeoutMs: 300,
      intervalMs: 10,
      probeTimeoutMs: 60_000,
    });
    assert.match(result.notReady[0]?.lastError ?? '', /^no answer within 0\.\d+s$/);
  });
});
