/**
 * One `abort` listener per caller signal, however many calls wait on it.
 *
 * Internal. A pattern hands one signal to every call of its window (hundreds at
 * once), and EventTarget's add/removeEventListener walk the signal's whole listener
 * list, so a listener per call costs O(calls in flight) per call (bench/: ~7% of a
 * scatter's CPU at 512). Subscribers are kept in a Set behind a single listener that
 * is added once per signal and fires once.
 */

/** Something to tell when a shared signal fires. */
export interface AbortSubscriber {
  onSharedAbort(reason: unknown): void;
}

const subscribersBySignal = new WeakMap<AbortSignal, Set<AbortSubscriber>>();

/** Tell `subscriber` when `signal` fires. The caller checks `signal.aborted` first. */
export function subscribeAbort(signal: AbortSignal, subscriber: AbortSubscriber): void {
  let subscribers = subscribersBySignal.get(signal);
  if (subscribers === undefined) {
    const registered = new Set<AbortSubscriber>();
    subscribers = registered;
    subscribersBySignal.set(signal, registered);
    signal.addEventListener(
      'abort',
      () => {
        subscribersBySignal.delete(signal);
        for (const subscriber of registered) subscriber.onSharedAbort(signal.reason);
      },
      { once: true },
    );
  }
  subscribers.add(subscriber);
}

/** Stop telling `subscriber` about `signal`. Idempotent. */
export function unsubscribeAbort(signal: AbortSignal, subscriber: AbortSubscriber): void {
  subscribersBySignal.get(signal)?.delete(subscriber);
}
