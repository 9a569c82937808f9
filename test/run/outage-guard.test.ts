import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentResponse } from '../../src/pool/types.js';
import { isOutageSuspect, OutageGuard } from '../../src/run/outage-guard.js';

const ok: AgentResponse = { success: true, text: 'fine', agentIndex: 0, globalIndex: 0 };
const refused: AgentResponse = {
  success: false,
  text: '',
  error: 'cannot connect to the proxy at 127.0.0.1:9 (ECONNREFUSED), agent 0',
  failureKind: 'proxy-unreachable',
  agentIndex: 0,
  globalIndex: 0,
};
const agentDown: AgentResponse = {
  ...refused,
  error: 'cannot connect to compute-1:8000 (HTTP 502 from agent 0 via proxy)',
  failureKind: 'connect',
  status: 502,
};

/** A target whose reachability the test switches; probes are counted. */
function target(reachable: boolean) {
  const state = { reachable, probes: 0 };
  return {
    state,
    probe: async () => {
      state.probes++;
      return state.reachable;
    },
  };
}

describe('OutageGuard', () => {
  test('answers and failures with an HTTP status pass straight through, unprobed', async () => {
    const { state, probe } = target(false);
    const guard = new OutageGuard({ probe, target: 'the proxy' });
    assert.equal(await guard.send(async () => ok), ok);
    assert.equal(await guard.send(async () => agentDown), agentDown);
    assert.equal(state.probes, 0);
    assert.equal(isOutageSuspect(agentDown), false);
    assert.equal(isOutageSuspect(refused), true);
  });

  test('a failure behind a reachable target is a result; a dropped proxy connection is resent a few times', async () => {
    const { state, probe } = target(true);
    const guard = new OutageGuard({ probe, target: 'the proxy' });
    const timeout: AgentResponse = { ...refused, failureKind: 'timeout', error: 'timeout' };
    assert.equal(await guard.send(async () => timeout), timeout);
    let calls = 0;
    const response = await guard.send(async () => {
      calls++;
      return calls < 3 ? refused : ok;
    });
    assert.equal(response, ok);
    assert.equal(calls, 3);
    let always = 0;
    assert.equal(
      await guard.send(async () => {
        always++;
        return refused;
      }),
      refused,
    );
    assert.equal(always, 4, 'one call and three resends at most');
    assert.ok(state.probes >= 1);
  });

  test('an outage holds every call back, probes once for many failures, resends on recovery', async () => {
    const { state, probe } = target(false);
    const events: string[] = [];
    let recover: () => void = () => undefined;
    const recovered = new Promise<void>((resolve) => {
      recover = resolve;
    });
    const guard = new OutageGuard({
      probe: async () => {
        const reachable = await probe();
        return reachable;
      },
      target: 'the proxy',
      retryIntervalMs: 1,
      maxRetryIntervalMs: 2,
      onOutage: (event) => {
        events.push(`outage ${event.target}`);
      },
      onRecovered: (event) => {
        events.push(`recovered after holding ${event.heldBack}`);
        recover();
      },
    });
    let up = false;
    const sends: number[] = [];
    const call = (index: number) =>
      guard.send(async () => {
        sends.push(index);
        return up ? { ...ok, text: String(index) } : refused;
      });
    const first = Array.from({ length: 100 }, (_value, index) => call(index));
    // Wait until the outage is noticed, then queue more calls: they must not be sent.
    while (!guard.inOutage) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(state.probes <= 2, `${state.probes} probes for 100 failures`);
    const later = call(100);
    const sentDuringOutage = sends.length;
    up = true;
    state.reachable = true;
    await recovered;
    const responses = await Promise.all([...first, later]);
    assert.ok(responses.every((response) => response?.success === true));
    assert.deepEqual(
      responses.map((response) => Number(response?.text)),
      Array.from({ length: 101 }, (_value, index) => index),
    );
    assert.equal(sentDuringOutage, 100, 'nothing new was sent during the outage');
    assert.deepEqual(events, ['outage the proxy', 'recovered after holding 101']);
  });

  test('an outage longer than the timeout: the calls resolve undefined (not done)', async () => {
    const { probe } = target(false);
    let gaveUp = 0;
    const guard = new OutageGuard({
      probe,
      target: 'the proxy',
      outageTimeoutMs: 20,
      retryIntervalMs: 1,
      onGiveUp: () => gaveUp++,
    });
    const results = await Promise.all([1, 2, 3].map(() => guard.send(async () => refused)));
    assert.deepEqual(results, [undefined, undefined, undefined]);
    assert.equal(gaveUp, 1);
    assert.equal(guard.gaveUp, true);
    assert.equal(await guard.send(async () => ok), undefined, 'nothing is sent after giving up');
  });

  test('the signal ends the waiting: undefined, and no further probe', async () => {
    const { state, probe } = target(false);
    const controller = new AbortController();
    const guard = new OutageGuard({
      probe,
      target: 'the proxy',
      retryIntervalMs: 60_000,
      signal: controller.signal,
      onOutage: () => controller.abort(),
    });
    assert.equal(await guard.send(async () => refused), undefined);
    assert.equal(state.probes, 1);
  });

  test('ready(): at once while reachable, after recovery during an outage, false once given up; every response is noted', async () => {
    const { state, probe } = target(false);
    const noted: AgentResponse[] = [];
    let recovered = false;
    const guard = new OutageGuard({
      probe,
      target: 'the proxy',
      retryIntervalMs: 1,
      maxRetryIntervalMs: 1,
      noteResponse: (response) => noted.push(response),
      onRecovered: () => {
        recovered = true;
      },
    });
    assert.equal(await guard.ready(), true, 'no outage: at once');
    const held = guard.send(async () => (state.reachable ? ok : refused));
    while (!guard.inOutage) await new Promise((resolve) => setImmediate(resolve));
    const ready = guard.ready();
    state.reachable = true;
    assert.equal(await ready, true);
    assert.equal(recovered, true, 'ready resolved only once the target answered');
    assert.equal(await held, ok);
    assert.deepEqual(noted, [refused, ok]);

    const gone = new OutageGuard({
      probe: async () => false,
      target: 'the proxy',
      outageTimeoutMs: 5,
      retryIntervalMs: 1,
    });
    assert.equal(await gone.send(async () => refused), undefined);
    assert.equal(await gone.ready(), false);
  });

  test('a call that failed while an outage began is sent again, even if the target is back when its own probe runs', async () => {
    const probes: Array<(reachable: boolean) => void> = [];
    const guard = new OutageGuard({
      probe: () => new Promise((resolve) => probes.push(resolve)),
      target: 'the agents',
      retryIntervalMs: 1,
      maxRetryIntervalMs: 1,
    });
    const unreachableAgent: AgentResponse = {
      ...refused,
      error: 'cannot connect to compute-1:8000 (ECONNREFUSED), agent 0',
      failureKind: 'connect',
    };
    let up = false;
    const probed = async (count: number) => {
      while (probes.length < count) await new Promise((resolve) => setImmediate(resolve));
    };
    const first = guard.send(async () => (up ? ok : unreachableAgent));
    const second = guard.send(async () => (up ? ok : unreachableAgent));
    await probed(1); // the first call's probe; the second call's waits behind it
    probes[0]?.(false); // an outage
    await probed(2);
    assert.equal(guard.inOutage, true);
    up = true; // the network is back before the second call's probe answers
    probes[1]?.(true);
    await probed(3);
    probes[2]?.(true); // the guard's own recovery probe
    assert.deepEqual(await Promise.all([first, second]), [ok, ok]);
  });
});
