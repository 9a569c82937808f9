/**
 * The generations one agent serves at once (vLLM's `--max-num-seqs`): later ones wait
 * in arrival order, which is what `vllm:num_requests_running` and
 * `vllm:num_requests_waiting` report.
 */
import type { ServerResponse } from 'node:http';

/** A generation's place: call `release()` once it is done (idempotent). */
export type ReleaseSlot = () => void;

/** @internal */
export class GenerationSlots {
  #limit: number;
  #running = 0;
  readonly #waiting: Array<{ response: ServerResponse; start: (release: ReleaseSlot) => void }> =
    [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Generations being served. */
  get running(): number {
    return this.#running;
  }

  /** Generations waiting for a place. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Change the limit; waiting generations start if it grew. */
  set limit(limit: number) {
    this.#limit = limit;
    this.#drain();
  }

  /**
   * Run `start` when a place is free (at once if one is). A generation whose client
   * leaves while it waits never starts; one that started gives its place back when its
   * response closes, if it has not already.
   */
  enter(response: ServerResponse, start: (release: ReleaseSlot) => void): void {
    if (this.#running < this.#limit) {
      this.#start(response, start);
      return;
    }
    const entry = { response, start };
    this.#waiting.push(entry);
    response.once('close', () => {
      const position = this.#waiting.indexOf(entry);
      if (position >= 0) this.#waiting.splice(position, 1);
    });
  }

  #start(response: ServerResponse, start: (release: ReleaseSlot) => void): void {
    this.#running++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#drain();
    };
    response.once('close', release);
    start(release);
  }

  #drain(): void {
    while (this.#running < this.#limit) {
      const next = this.#waiting.shift();
      if (next === undefined) return;
      if (next.response.destroyed) continue;
      this.#start(next.response, next.start);
    }
  }
}
