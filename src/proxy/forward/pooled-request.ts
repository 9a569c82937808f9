/**
 * One endpoint for the whole swarm: `/v1/*` goes to a healthy agent chosen by the
 * proxy (least in flight of two random ones, or the session's agent), optionally
 * among the agents with given tags. The path is forwarded unchanged, so any
 * OpenAI-compatible client can use `{proxy}/v1` as its base URL.
 *
 * When the chosen agent cannot be reached (refused, reset or unreachable before
 * any byte of an answer), the request goes to another agent — but only if its body
 * can be sent again: no body, or a `Content-Length` of at most
 * {@link MAX_REPLAYABLE_BODY_BYTES}, which is then read whole before sending.
 * Larger or chunked bodies are streamed and never retried.
 *
 * Agents that cannot be connected to are taken out of the pool for every request at once
 * (health/health-monitor.ts: passive marking, probes or a cooldown bring them back), so a
 * dead agent costs a few requests one attempt each, not every request. An `X-Agent-Tag`
 * that no agent of the hostfile has is the client's mistake and answered 400 — a 503 would
 * be retried by OpenAI SDKs (three times, for nothing); 503 means agents with those tags
 * exist but none is healthy right now.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AgentTagFilter,
  parseAgentTagFilter,
  pickBySession,
  pickLeastInFlight,
} from '../agents/agent-selection.js';
import type { AgentTargets, ForwardTarget } from '../agents/agent-targets.js';
import { watchDeclaredBody } from '../guards/guarded-request-body.js';
import { bodyIdleMessage } from '../guards/proxy-limits.js';
import { sendJsonError } from '../json-response.js';
import { MAX_REPLAYABLE_BODY_BYTES } from '../proxy-constants.js';
import {
  type ForwardContext,
  forwardToSelected,
  requestTimeoutMs,
  type TargetSelector,
} from './forward-request.js';
import { buildUpstreamRequestHead } from './hop-by-hop-headers.js';

export { MAX_REPLAYABLE_BODY_BYTES };

class PooledSelector implements TargetSelector {
  readonly #targets: AgentTargets;
  readonly #filter: AgentTagFilter | undefined;
  readonly #sessionId: string | undefined;
  readonly replayable: boolean;

  constructor(
    targets: AgentTargets,
    filter: AgentTagFilter | undefined,
    sessionId: string | undefined,
    replayable: boolean,
  ) {
    this.#targets = targets;
    this.#filter = filter;
    this.#sessionId = sessionId;
    this.replayable = replayable;
  }

  pick(tried: readonly ForwardTarget[] | undefined): ForwardTarget | undefined {
    let candidates = this.#targets.candidates(this.#filter);
    if (tried !== undefined) {
      // By address: a reload in between makes new target objects for the same agents.
      candidates = candidates.filter(
        (candidate) => !tried.some((agent) => agent.authority === candidate.authority),
      );
    }
    return this.#sessionId === undefined
      ? pickLeastInFlight(candidates)
      : pickBySession(candidates, this.#sessionId);
  }

  unavailableMessage(): string {
    const filter = this.#filter;
    if (filter === undefined) {
      return `no healthy agent: all ${this.#targets.all.length} agent(s) are unhealthy`;
    }
    if (!this.#targets.anyMatches(filter)) return noAgentWithTagsMessage(filter);
    return `no healthy agent has the tag(s) ${filter.text} asked for by X-Agent-Tag`;
  }
}

/** The 400 message of an `X-Agent-Tag` that no agent of the hostfile has. */
function noAgentWithTagsMessage(filter: AgentTagFilter): string {
  return `no agent has the tag(s) ${filter.text} asked for by X-Agent-Tag`;
}

/**
 * Forward a `/v1/...` request (`path` is the request target, unchanged) to an
 * agent of the pool. Never throws: bad headers and tags no agent has are 400, no healthy
 * agent 503, and the rest is as for `/agent/{index}/...`; successful answers carry
 * `X-Agent-Index`.
 */
export function forwardPooledRequest(
  context: ForwardContext,
  targets: AgentTargets,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): void {
  const head = buildUpstreamRequestHead(request.rawHeaders, true);
  const timeoutMs = requestTimeoutMs(context, head, response);
  if (timeoutMs === undefined) return;
  let filter: AgentTagFilter | undefined;
  if (head.agentTags !== undefined) {
    const parsed = parseAgentTagFilter(head.agentTags);
    if (typeof parsed === 'string') {
      sendJsonError(response, 400, parsed);
      return;
    }
    filter = parsed;
  }
  const sessionId = head.sessionId?.trim() || undefined;
  const contentLength = head.contentLength === undefined ? Number.NaN : Number(head.contentLength);
  const buffered = head.hasBody && contentLength <= MAX_REPLAYABLE_BODY_BYTES;
  if (targets.candidates(filter).length === 0) {
    // Off the hot path: nobody to send it to.
    if (filter !== undefined && !targets.anyMatches(filter)) {
      sendJsonError(response, 400, noAgentWithTagsMessage(filter));
      return;
    }
    context.metrics.noHealthyAgent++;
    const noHealthy = new PooledSelector(targets, filter, sessionId, false);
    sendJsonError(response, 503, noHealthy.unavailableMessage());
    return;
  }
  const selector = new PooledSelector(targets, filter, sessionId, !head.hasBody || buffered);
  if (!head.hasBody) {
    forwardToSelected(context, selector, request, response, path, head.headers, null, timeoutMs);
  } else if (!buffered) {
    forwardToSelected(context, selector, request, response, path, head.headers, request, timeoutMs);
  } else {
    readReplayableBody(context, request, response, contentLength).then((body) => {
      if (body === undefined || response.destroyed) return;
      forwardToSelected(context, selector, request, response, path, head.headers, body, timeoutMs);
    });
  }
}

/**
 * Read a small body of declared length whole so it can be sent again to another
 * agent, under the same idle timeout as a streamed body (its size was checked against
 * the cap on arrival, and Node's parser holds it to the declared length). Resolves
 * `undefined` when the client went quiet (it has been answered 408) or went away.
 */
function readReplayableBody(
  context: ForwardContext,
  request: IncomingMessage,
  response: ServerResponse,
  contentLength: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const body = Buffer.allocUnsafe(contentLength);
    let offset = 0;
    const stopWatch = watchDeclaredBody(request, context.bodyIdleTimeoutMs, {
      onBodyTooLarge: () => undefined, // not for a declared length: see above
      onBodyIdle: () => {
        // The rest of the body is not read: the connection cannot carry another request.
        response.shouldKeepAlive = false;
        if (!response.headersSent) {
          sendJsonError(response, 408, bodyIdleMessage(context.bodyIdleTimeoutMs));
        }
        // End the read once the answer is out: the client may never send another byte.
        if (response.writableFinished) request.destroy();
        else response.once('finish', () => request.destroy());
      },
    });
    request.on('data', (chunk: Buffer) => {
      offset += chunk.copy(body, offset);
    });
    request.once('end', () => {
      stopWatch();
      resolve(offset === contentLength ? body : undefined);
    });
    // A client that leaves (or is cut) mid-body never reaches 'end'.
    request.once('close', () => {
      stopWatch();
      resolve(undefined);
    });
  });
}
