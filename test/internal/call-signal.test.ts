import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallSignal } from '../../src/internal/call-signal.js';

test('calls sharing a caller signal all abort with its reason; disposed ones do not', () => {
  const caller = new AbortController();
  const calls = Array.from({ length: 5 }, () => new CallSignal(60_000, caller.signal));
  calls[1]?.dispose();
  const reason = new Error('stop');
  caller.abort(reason);
  calls.forEach((call, index) => {
    assert.equal(call.signal.aborted, index !== 1, `call ${index}`);
    if (index !== 1) {
      assert.equal(call.signal.reason, reason);
      assert.equal(call.callerAborted, true);
      assert.equal(call.timedOut, false);
    }
    call.dispose();
  });
});

test('a call made after the caller signal aborted starts aborted', () => {
  const caller = new AbortController();
  caller.abort('gone');
  const call = new CallSignal(60_000, caller.signal);
  assert.equal(call.signal.aborted, true);
  assert.equal(call.signal.reason, 'gone');
  call.dispose();
});

test('a new call after every earlier call was disposed still hears the caller', () => {
  const caller = new AbortController();
  for (let index = 0; index < 3; index++) new CallSignal(60_000, caller.signal).dispose();
  const call = new CallSignal(60_000, caller.signal);
  caller.abort('late');
  assert.equal(call.signal.aborted, true);
  call.dispose();
});

test('the timeout aborts the call and says so', async () => {
  const call = new CallSignal(1, undefined);
  await new Promise((resolve) => call.signal.addEventListener('abort', resolve, { once: true }));
  assert.equal(call.timedOut, true);
  assert.equal(call.callerAborted, false);
  call.dispose();
});

test('as undici uses it: abort listeners run once with the reason set, removed ones never', () => {
  const call = new CallSignal(60_000, undefined);
  const heard: string[] = [];
  const first = () => heard.push(`first ${String(call.signal.reason)}`);
  const second = () => heard.push('second');
  const removed = () => heard.push('removed');
  call.signal.addEventListener('abort', first, { once: true });
  call.signal.addEventListener('abort', removed);
  call.signal.addEventListener('abort', second);
  call.signal.removeEventListener('abort', removed);
  call.signal.addEventListener('other' as 'abort', removed);
  assert.equal(call.signal.aborted, false);
  call.abort('stopped');
  call.abort('again');
  assert.deepEqual(heard, ['first stopped', 'second']);
  assert.equal(call.signal.aborted, true);
  assert.equal(call.signal.reason, 'stopped');
  assert.equal(call.timedOut, false);
  assert.equal(call.callerAborted, false);
  call.signal.addEventListener('abort', removed);
  assert.deepEqual(heard.length, 2, 'a listener added after the abort is not called');
});

test('abort() without a reason gives an AbortError, as AbortController does', () => {
  const call = new CallSignal(60_000, undefined);
  call.abort();
  assert.equal((call.signal.reason as DOMException).name, 'AbortError');
});

test('undici request() is cut by the timeout and by the caller through it', async (t) => {
  const { createServer } = await import('node:http');
  const { Agent } = await import('undici');
  // A server that never answers.
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new Agent();
  t.after(async () => {
    await agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  const timed = new CallSignal(50, undefined);
  await assert.rejects(agent.request({ origin, path: '/', method: 'GET', signal: timed.signal }));
  assert.equal(timed.timedOut, true);
  const caller = new AbortController();
  const cut = new CallSignal(60_000, caller.signal);
  const pending = agent.request({ origin, path: '/', method: 'GET', signal: cut.signal });
  setImmediate(() => caller.abort(new Error('caller stopped')));
  await assert.rejects(pending, /caller stopped/);
  assert.equal(cut.callerAborted, true);
  cut.dispose();
  timed.dispose();
});
