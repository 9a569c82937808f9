import { type AbortSubscriber, subscribeAbort, unsubscribeAbort } from './shared-abort.js';
import { MAX_TIMER_DELAY_MS } from './timer-limit.js';

/**
 * Wait `delayMs` milliseconds. Resolves `true` when the time passed, `false` as soon
 * as `signal` fires (never rejects). Delays longer than a Node timer holds are waited in
 * steps (timer-limit.ts). Internal helper.
 */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let timer: ReturnType<typeof setTimeout>;
    const subscriber: AbortSubscriber = {
      onSharedAbort() {
        clearTimeout(timer);
        resolve(false);
      },
    };
    const arm = (leftMs: number) => {
      const stepMs = Math.min(leftMs, MAX_TIMER_DELAY_MS);
      timer = setTimeout(() => {
        if (leftMs > stepMs) {
          arm(leftMs - stepMs);
          return;
        }
        if (signal) unsubscribeAbort(signal, subscriber);
        resolve(true);
      }, stepMs);
    };
    arm(delayMs);
    if (signal) subscribeAbort(signal, subscriber);
  });
}
