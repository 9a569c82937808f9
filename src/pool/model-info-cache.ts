/**
 * The served model's name and context length, read from `/v1/models` once per pool
 * family. Concurrent first calls share one request; a failed lookup falls back (and
 * may be tried again, on another agent, a few times). A caller whose signal fires
 * stops waiting at once; the shared lookup carries on for the others.
 */
import {
  type AbortSubscriber,
  subscribeAbort,
  unsubscribeAbort,
} from '../internal/shared-abort.js';
import type { PoolMember } from './pool-member.js';
import type { PoolTransport } from './pool-transport.js';

/** What a call needs to know about the model. */
export interface ModelInfo {
  /** Model name to send, or `undefined` if neither configured nor discoverable. */
  readonly model: string | undefined;
  /** Context length in tokens. */
  readonly contextLength: number;
}

/** Lookups attempted before settling on the fallback for good. */
const MAX_LOOKUPS = 3;
/** A `/v1/models` answer is small and fast; do not wait a generation's timeout for it. */
const LOOKUP_TIMEOUT_MS = 30_000;

/** @internal */
export class ModelInfoCache {
  readonly #transport: PoolTransport;
  readonly #configuredModel: string | undefined;
  readonly #configuredContext: number | undefined;
  readonly #fallbackContext: number;
  #known: ModelInfo | undefined;
  #pending: Promise<ModelInfo> | undefined;
  #lookups = 0;

  constructor(
    transport: PoolTransport,
    configuredModel: string | undefined,
    configuredContext: number | undefined,
    fallbackContext: number,
  ) {
    this.#transport = transport;
    this.#configuredModel = configuredModel;
    this.#configuredContext = configuredContext;
    this.#fallbackContext = fallbackContext;
    if (configuredModel !== undefined && configuredContext !== undefined) {
      this.#known = { model: configuredModel, contextLength: configuredContext };
    }
  }

  /** The information, if already settled (no lookup needed). */
  get known(): ModelInfo | undefined {
    return this.#known;
  }

  /**
   * The information, looking it up on `member` if nobody has yet (`undefined`: on the
   * least-loaded agent of `members`, failing over from one that cannot be reached, as a
   * least-loaded call does); `undefined` as soon as `signal` fires first (the lookup is not
   * cut: other calls may be waiting on it). Never rejects.
   */
  get(
    member: PoolMember | undefined,
    timeoutMs: number,
    signal?: AbortSignal | undefined,
    members?: readonly PoolMember[],
  ): Promise<ModelInfo | undefined> {
    if (this.#known) return Promise.resolve(this.#known);
    this.#pending ??= this.#lookUp(member, members, timeoutMs);
    return signal === undefined ? this.#pending : untilAborted(this.#pending, signal);
  }

  async #lookUp(
    member: PoolMember | undefined,
    members: readonly PoolMember[] | undefined,
    timeoutMs: number,
  ): Promise<ModelInfo> {
    this.#lookups++;
    const result = await this.#transport.exchange({
      member,
      members,
      method: 'GET',
      path: '/v1/models',
      timeoutMs: Math.min(timeoutMs, LOOKUP_TIMEOUT_MS),
    });
    const found = result.ok ? this.#parse(result.bodyText) : undefined;
    const info: ModelInfo = {
      model: this.#configuredModel ?? found?.model,
      contextLength: this.#configuredContext ?? found?.contextLength ?? this.#fallbackContext,
    };
    if (found?.contextLength !== undefined || this.#lookups >= MAX_LOOKUPS) {
      this.#known = info;
    } else {
      // Let a later call try again (perhaps on a live agent); this one uses the fallback.
      this.#pending = undefined;
    }
    return info;
  }

  #parse(
    bodyText: string,
  ): { model: string | undefined; contextLength: number | undefined } | undefined {
    let json: unknown;
    try {
      json = JSON.parse(bodyText);
    } catch {
      return undefined;
    }
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) return undefined;
    const entries = data as Array<{ id?: unknown; max_model_len?: unknown } | null>;
    const entry =
      entries.find((candidate) => candidate?.id === this.#configuredModel) ?? entries[0];
    if (!entry) return undefined;
    const contextLength = entry.max_model_len;
    return {
      model: typeof entry.id === 'string' ? entry.id : undefined,
      contextLength:
        typeof contextLength === 'number' && Number.isInteger(contextLength) && contextLength > 0
          ? contextLength
          : undefined,
    };
  }
}

/** `promise`'s value, or `undefined` as soon as `signal` fires (one shared listener per signal). */
function untilAborted<Value>(
  promise: Promise<Value>,
  signal: AbortSignal,
): Promise<Value | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const subscriber: AbortSubscriber = { onSharedAbort: () => resolve(undefined) };
    subscribeAbort(signal, subscriber);
    void promise.then((value) => {
      unsubscribeAbort(signal, subscriber);
      resolve(value);
    });
  });
}
