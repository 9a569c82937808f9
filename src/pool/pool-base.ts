/**
 * What every pool class shares: its agents, sub-pool selection, the shared
 * transport (connections, concurrency limit, proxy) and the lifecycle.
 */
import type { Response } from 'undici';
import { InvalidArgumentError, PoolClosedError } from '../errors.js';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { describeValue } from '../internal/describe-value.js';
import {
  type AgentRequestInit,
  type OpenAIClientConfig,
  openaiClientConfig,
  requestAgent,
} from './agent-access.js';
import type { AgentHealthReport } from './agent-states.js';
import type { ResolvedCallOptions } from './call-options.js';
import { createPoolMembers, type PoolMember } from './pool-member.js';
import type { ResolvedPoolOptions } from './pool-options.js';
import { PoolTransport } from './pool-transport.js';
import { selectByTag, selectIndices, selectSample, selectSlice } from './sub-pool-selection.js';
import type {
  AnsweredBy,
  TransportAnswer,
  TransportFailure,
  TransportRequest,
} from './transport-attempt.js';

/**
 * State shared by a root pool and every sub-pool made from it. Subclasses extend it
 * with their own shared state (e.g. the model information cache). @internal
 */
export interface PoolFamily {
  readonly transport: PoolTransport;
  /** The options object the root pool was constructed with (handed to sub-pool constructors). */
  readonly userOptions: unknown;
}

/**
 * How a pool constructor learns it is building a sub-pool. Not part of the public
 * API: sub-pools are made with `byTag`, `sample`, `select` and `slice`. @internal
 */
export class PoolContext<Family extends PoolFamily = PoolFamily> {
  constructor(
    readonly family: Family,
    readonly members: readonly PoolMember[],
    readonly isRoot: boolean,
  ) {}
}

/** Create the transport and members of a new root pool. @internal */
export function createRootContext<Family extends PoolFamily>(
  options: ResolvedPoolOptions,
  buildFamily: (transport: PoolTransport) => Family,
): PoolContext<Family> {
  const transport = new PoolTransport(options);
  const members = createPoolMembers(options.endpoints, options.proxyUrl);
  return new PoolContext(buildFamily(transport), members, true);
}

type SubPoolConstructor<Pool> = new (options: never, context: PoolContext) => Pool;

/**
 * Base class of `AgentPool` and `EmbeddingPool`. Subclasses must keep the constructor
 * signature `(options, context?)`: sub-pools are built through `this.constructor`.
 */
export abstract class PoolBase {
  readonly #context: PoolContext;
  readonly #endpoints: readonly AgentEndpoint[];

  protected constructor(context: PoolContext) {
    if (!(context instanceof PoolContext)) {
      throw new InvalidArgumentError(
        'pool constructors take one argument, the options object; make sub-pools with byTag, sample, select or slice',
      );
    }
    this.#context = context;
    this.#endpoints = Object.freeze(context.members.map((member) => member.endpoint));
  }

  /** Number of agents in this pool. */
  get size(): number {
    return this.#context.members.length;
  }

  /** The agents of this pool, in pool order. */
  get endpoints(): readonly AgentEndpoint[] {
    return this.#endpoints;
  }

  /** Hostfile (global) index of each agent of this pool, in pool order. */
  get globalIndices(): readonly number[] {
    return this.#context.members.map((member) => member.globalIndex);
  }

  /** Maximum simultaneous requests, shared with every pool of the same family. @default 512 */
  get concurrency(): number {
    return this.#context.family.transport.options.concurrency;
  }

  /** Maximum simultaneous connections in use. @default 1024 */
  get connectorLimit(): number {
    return this.#context.family.transport.options.connectorLimit;
  }

  /** Default timeout of one call attempt, in milliseconds. */
  get timeoutMs(): number {
    return this.#context.family.transport.options.timeoutMs;
  }

  /** The proxy every request goes through, or `undefined` when connecting directly. */
  get proxyUrl(): string | undefined {
    return this.#context.family.transport.options.proxyUrl;
  }

  /** Whether this pool is a sub-pool (made by `byTag`, `sample`, `select` or `slice`). */
  get isSubPool(): boolean {
    return !this.#context.isRoot;
  }

  /** Whether the root pool of this family has been closed. */
  get closed(): boolean {
    return this.#context.family.transport.closed;
  }

  /**
   * What is known of each agent of this pool right now, in pool order: its circuit breaker
   * (`closed`, `open`, `half-open`), its calls in flight (counted over the whole pool
   * family) and its last connection failure. Sub-pools share the root's breakers.
   */
  agentHealth(): AgentHealthReport[] {
    return this.#context.family.transport.agents.report(this.#context.members);
  }

  /** Agents whose tag `key` equals `value` (possibly none), same class, shared connections. */
  byTag(key: string, value: string): this {
    return this.derive(selectByTag(this.#context.members, key, value));
  }

  /** `n` agents chosen at random without replacement (all of them if `n` ≥ size). */
  sample(n: number): this {
    return this.derive(selectSample(this.#context.members, n));
  }

  /** The agents at these pool indices, in the given order. */
  select(indices: readonly number[]): this {
    return this.derive(selectIndices(this.#context.members, indices));
  }

  /** Agents `start` (inclusive) to `end` (exclusive), like `Array.prototype.slice`. */
  slice(start: number, end?: number): this {
    return this.derive(selectSlice(this.#context.members, start, end));
  }

  /**
   * The settings of an official OpenAI SDK client for agent `agentIndex` of this pool
   * (sub-pool numbering), routed as the pool's own requests: `http://host:port/v1`, or
   * `{proxyUrl}/agent/{globalIndex}/v1` with `X-Timeout` and the proxy token in proxy
   * mode. The Python original's `pool._openai_clients[i]`.
   *
   * @example
   * const client = new OpenAI({ apiKey: 'EMPTY', ...pool.openaiConfig(0) });
   * const models = await client.models.list();
   * @throws {InvalidArgumentError} for an index outside the pool.
   */
  openaiConfig(agentIndex: number): OpenAIClientConfig {
    return openaiClientConfig(this.#memberAt(agentIndex, 'openaiConfig'), this.transport.options);
  }

  /**
   * `fetch` any route of agent `agentIndex` (sub-pool numbering) through the pool's own
   * connections and routing (the proxy and its token in proxy mode): `/v1/models`,
   * `/tokenize`, `/metrics`, … Resolves to the answer whatever its status; rejects as
   * `fetch` does when no answer came. Not counted against `concurrency`.
   *
   * @example
   * const metrics = await (await pool.request(0, '/metrics')).text();
   * Rejects with `InvalidArgumentError` for an index outside the pool, `InvalidOptionError`
   * for a path not starting with `/`, `PoolClosedError` after the root pool was closed.
   */
  async request(agentIndex: number, path: string, init?: AgentRequestInit): Promise<Response> {
    this.assertOpen();
    return requestAgent(this.transport, this.#memberAt(agentIndex, 'request'), path, init);
  }

  #memberAt(agentIndex: number, method: string): PoolMember {
    const member = Number.isInteger(agentIndex) ? this.#context.members[agentIndex] : undefined;
    if (member === undefined) {
      throw new InvalidArgumentError(
        `${method}: agent index ${describeValue(agentIndex)} out of range [0, ${this.size}) of this pool`,
      );
    }
    return member;
  }

  /**
   * Close the root pool's connections once in-flight calls have ended; later calls
   * throw `PoolClosedError`. On a sub-pool this does nothing: the connections belong
   * to the root. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#context.isRoot) await this.#context.family.transport.close();
  }

  /** `await using pool = new VLLMPool(...)` closes the pool at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** State shared with every pool of the family. */
  protected get family(): PoolFamily {
    return this.#context.family;
  }

  /** The transport shared with every pool of the family. */
  protected get transport(): PoolTransport {
    return this.#context.family.transport;
  }

  /** The members of this pool, in pool order. */
  protected get members(): readonly PoolMember[] {
    return this.#context.members;
  }

  /**
   * JSON fields merged into every request body of this pool (the `extraBody` option
   * of the pools that have one), before the call's own `extraBody`. None by default.
   */
  protected get extraBody(): Readonly<Record<string, unknown>> | undefined {
    return undefined;
  }

  /**
   * The POST of `fields` as JSON to `path` of `member` (`undefined`: the least-loaded
   * agent of this pool, with failover): the pool's {@link extraBody} and then the call's
   * merged over `fields`, then `fixed` over everything (fields the request cannot work
   * without, e.g. `stream: true` for a stream), under the call's timeout, signal and
   * hedging. For {@link postJson}, or to open as a stream.
   */
  protected jsonPost(
    member: PoolMember | undefined,
    path: string,
    fields: Record<string, unknown>,
    call: ResolvedCallOptions,
    fixed?: Readonly<Record<string, unknown>>,
  ): TransportRequest {
    const extraBody = this.extraBody;
    // Usually nothing to merge: `fields` is the body (it is the caller's own, fresh object).
    const body =
      extraBody === undefined && call.extraBody === undefined && fixed === undefined
        ? fields
        : Object.assign({}, fields, extraBody, call.extraBody, fixed);
    return {
      member,
      members: this.#context.members,
      hedgeAfterMs: call.hedgeAfterMs === false ? undefined : call.hedgeAfterMs,
      maxHedges: call.maxHedges,
      tailHedge: call.hedgeAfterMs === undefined ? call.tailHedge : undefined,
      method: 'POST',
      path,
      body: JSON.stringify(body),
      timeoutMs: call.timeoutMs,
      signal: call.signal,
    };
  }

  /**
   * The agent a result is from and its index in this pool: `member` at `agentIndex` as
   * asked, unless the transport chose another (least-loaded dispatch, failover, a hedge).
   * `member` is `undefined` (and the index -1) when no agent could be called.
   */
  protected answeredBy(
    result: AnsweredBy,
    member: PoolMember | undefined,
    agentIndex: number,
  ): { member: PoolMember | undefined; agentIndex: number } {
    if (result.member === undefined || result.member === member) return { member, agentIndex };
    return { member: result.member, agentIndex: result.memberIndex ?? -1 };
  }

  /** Send {@link jsonPost}'s request and read the whole answer (retrying where safe). */
  protected postJson(
    member: PoolMember | undefined,
    path: string,
    fields: Record<string, unknown>,
    call: ResolvedCallOptions,
  ): Promise<TransportAnswer | TransportFailure> {
    return this.#context.family.transport.exchange(this.jsonPost(member, path, fields, call));
  }

  /** @throws {PoolClosedError} once the root pool is closed. */
  protected assertOpen(): void {
    if (this.#context.family.transport.closed) {
      throw new PoolClosedError(
        'the pool is closed: create a new pool, or close it only after its last call',
      );
    }
  }

  /**
   * Run `task(0..count-1)` with at most as many running as the shared limit allows,
   * results in index order. Workers pull indices, so a 100,000-prompt scatter keeps
   * only a few hundred pending promises instead of 100,000 queued closures.
   */
  protected async fanOut<Result>(
    count: number,
    task: (index: number) => Promise<Result>,
  ): Promise<Result[]> {
    const results = new Array<Result>(count);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    };
    // Twice the limit: workers sleeping before a retry hold no slot, and the spare
    // workers keep the slots busy meanwhile.
    const workerCount = Math.min(count, 2 * this.#context.family.transport.limiter.capacity);
    const workers: Promise<void>[] = [];
    for (let index = 0; index < workerCount; index++) workers.push(worker());
    await Promise.all(workers);
    return results;
  }

  /** A pool of the same class over `members`, sharing this pool's family. */
  protected derive(members: readonly PoolMember[]): this {
    const Constructor = this.constructor as SubPoolConstructor<this>;
    return new Constructor(
      this.#context.family.userOptions as never,
      new PoolContext(this.#context.family, members, false),
    );
  }
}
