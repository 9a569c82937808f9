/**
 * One HTTP exchange whose answer is read whole, through undici's `dispatch()` and a handler of
 * our own instead of `request()` + `body.text()`.
 *
 * Internal. Why: every call of a scatter reads a small JSON answer whole, and `request()`
 * builds for it an `AsyncResource`, a `Readable` body stream with its state and listeners,
 * a promise for the headers and another for the text — about a quarter of the client's CPU
 * per request on loopback (bench/README.md, "Client"). Here one handler object collects the
 * body chunks and settles one promise. It keeps `request()`'s behaviour where the pool relies
 * on it: 1xx answers are skipped, the text is UTF-8 with a leading BOM dropped (undici's
 * `chunksDecode`), an abort before the request reached a connection takes effect when it
 * does (as `RequestHandler.onConnect`), an abort after the headers cuts the body, and errors
 * are undici's own (the same codes for the retry rules and failure messages).
 */
import type { Dispatcher } from 'undici';
import type { CallSignal } from '../internal/call-signal.js';

/** An answer read whole. */
export interface WholeResponse {
  statusCode: number;
  /** The `Retry-After` header (the only one the pool reads), when present. */
  retryAfter: string | undefined;
  bodyText: string;
}

/**
 * Send `options` through `dispatcher` and read the answer whole; rejects with undici's error,
 * or with the signal's reason once `signal` aborts. `onResponseStart` is told the status as
 * soon as the response headers arrive (before the body).
 */
export function receiveWhole(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: CallSignal,
  onResponseStart: (statusCode: number) => void,
): Promise<WholeResponse> {
  return new Promise<WholeResponse>((resolve, reject) => {
    dispatcher.dispatch(options, new WholeHandler(signal, onResponseStart, resolve, reject));
  });
}

class WholeHandler implements Dispatcher.DispatchHandler {
  readonly #signal: CallSignal;
  readonly #onResponseStart: (statusCode: number) => void;
  readonly #resolve: (response: WholeResponse) => void;
  readonly #reject: (error: unknown) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #statusCode = 0;
  #retryAfter: string | undefined;
  #chunks: Buffer[] = [];
  #length = 0;
  #listening = false;

  constructor(
    signal: CallSignal,
    onResponseStart: (statusCode: number) => void,
    resolve: (response: WholeResponse) => void,
    reject: (error: unknown) => void,
  ) {
    this.#signal = signal;
    this.#onResponseStart = onResponseStart;
    this.#resolve = resolve;
    this.#reject = reject;
    if (!signal.aborted) {
      signal.addEventListener('abort', this);
      this.#listening = true;
    }
  }

  /** The signal fired: cut the exchange now if it started, else when it does. */
  handleEvent(): void {
    this.#listening = false;
    this.#controller?.abort(this.#signal.reason as Error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#signal.aborted) {
      controller.abort(this.#signal.reason as Error);
      return;
    }
    this.#controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // 1xx answers (100 Continue, 103 Early Hints) are not the response.
    if (statusCode < 200) return;
    this.#statusCode = statusCode;
    const retryAfter = headers['retry-after'];
    this.#retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    this.#onResponseStart(statusCode);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  onResponseEnd(): void {
    this.#stopListening();
    this.#resolve({
      statusCode: this.#statusCode,
      retryAfter: this.#retryAfter,
      bodyText: decodeUtf8(this.#chunks, this.#length),
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#stopListening();
    this.#reject(error);
  }

  #stopListening(): void {
    if (this.#listening) {
      this.#listening = false;
      this.#signal.removeEventListener('abort', this);
    }
  }
}

/** The body as UTF-8 text, a leading byte-order mark dropped (as undici's `body.text()`). */
function decodeUtf8(chunks: readonly Buffer[], length: number): string {
  if (chunks.length === 0 || length === 0) return '';
  const buffer = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
  const start =
    buffer.length > 2 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
  return buffer.toString('utf8', start);
}
