/**
 * SIGINT/SIGTERM for a command that starts something and runs until told to stop (the proxy,
 * the simulated agents, a run, a wait, the demo).
 *
 * It listens from the moment it is created, so a signal that arrives while the command is
 * still starting cannot kill the process with the default action: it is remembered and acted
 * upon as soon as the command says it is ready (`handle`). After that, the first signal asks
 * for a graceful stop and every later one for stopping now ("a second Ctrl-C cuts").
 */
import type { CliIo } from './cli-io.js';

/** What a command does on a shutdown signal. */
export interface ShutdownHandlers {
  /** The first SIGINT/SIGTERM: stop gracefully. */
  first(signal: NodeJS.Signals): void;
  /** Every later one: stop now. @default nothing more */
  again?(signal: NodeJS.Signals): void;
}

/** SIGINT/SIGTERM of one command; `dispose()` when the command ends. */
export class ShutdownSignals implements Disposable {
  readonly #stopListening: () => void;
  #handlers: ShutdownHandlers | undefined;
  #early: NodeJS.Signals | undefined;
  #count = 0;
  #resolveReceived!: (signal: NodeJS.Signals) => void;
  /** Resolves with the first signal, whether it came before or after `handle`. */
  readonly received: Promise<NodeJS.Signals>;

  constructor(io: CliIo) {
    this.received = new Promise((resolve) => {
      this.#resolveReceived = resolve;
    });
    this.#stopListening = io.onSignal((signal) => this.#onSignal(signal));
  }

  /** Signals handled so far (those remembered before `handle` included, once handled). */
  get count(): number {
    return this.#count;
  }

  /** Whether a signal has arrived (handled or remembered). */
  get stopping(): boolean {
    return this.#count > 0 || this.#early !== undefined;
  }

  /** Act on signals from now on; a signal that arrived earlier is acted upon at once. */
  handle(handlers: ShutdownHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = undefined;
    if (early !== undefined) this.#onSignal(early);
  }

  /** Stop listening. Idempotent. */
  dispose(): void {
    this.#stopListening();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #onSignal(signal: NodeJS.Signals): void {
    this.#resolveReceived(signal);
    const handlers = this.#handlers;
    if (handlers === undefined) {
      this.#early ??= signal;
      return;
    }
    this.#count++;
    if (this.#count === 1) handlers.first(signal);
    else handlers.again?.(signal);
  }
}
