import { type AbortSubscriber, subscribeAbort, unsubscribeAbort } from './shared-abort.js';

/**
 * Wait `delayMs` milliseconds. Resolves `true` when the time passed, `false` as soon
 * as `signal` fires (never rejects). Internal helper.
 */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const subscriber: AbortSubscriber = {
      onSharedAbort() {
        clearTimeout(timer);
        resolve(false);
      },
    };
    const timer = setTimeout(() => {
      if (signal) unsubscribeAbort(signal, subscriber);
      resolve(true);
    }, delayMs);
    if (signal) subscribeAbort(signal, subscriber);
  });
}
