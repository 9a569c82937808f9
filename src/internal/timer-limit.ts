/**
 * Node's timers hold at most 2^31 − 1 ms (about 24.8 days): a longer `setTimeout` or
 * `setInterval` fires after 1 ms with a TimeoutOverflowWarning. Long timeouts and sleeps are
 * re-armed in steps of this size (call-signal.ts, sleep.ts); periodic timers are clamped to it.
 * Internal.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** The same delay in whole seconds, the longest a command-line flag in seconds may give. */
export const MAX_TIMER_DELAY_SECONDS = Math.floor(MAX_TIMER_DELAY_MS / 1000);
