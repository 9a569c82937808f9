/**
 * An AbortController that also aborts when a caller's signal does, so an operation can cancel
 * its own calls (on an internal failure) as well as honour the caller.
 */
import { setMaxListeners } from 'node:events';

/** A controller linked to a parent signal; call `dispose` when done to drop the listener. */
export interface LinkedAbortController {
  controller: AbortController;
  dispose(): void;
}

/**
 * Create an AbortController that aborts (with the same reason) when `parent` aborts. Its signal
 * is shared by every call of one operation, so it may have as many listeners as calls in flight.
 */
export function linkAbortController(parent: AbortSignal | undefined): LinkedAbortController {
  const controller = new AbortController();
  // One listener per call in flight is expected, not a leak: silence Node's warning at 10.
  setMaxListeners(0, controller.signal);
  if (parent === undefined) return { controller, dispose: () => undefined };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, dispose: () => undefined };
  }
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { controller, dispose: () => parent.removeEventListener('abort', onAbort) };
}
