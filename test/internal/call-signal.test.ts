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
