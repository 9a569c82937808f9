/**
 * `GET /status` in its two forms. Without a query (or with `?view=full`) the full body
 * of proxy-status.ts, unchanged for scripts and `aurora-swarm status`; with
 * `?view=compact` the status page's form (compact-status.ts), which also takes
 * `since=<version>` and `agent=<index>`. Other query parameters are ignored (cache
 * busters, `?pretty`); a bad value of ours is a 400 that says what is expected.
 */
import { CompactStatus, type CompactStatusQuery } from './compact-status.js';
import { buildStatus, type StatusSource } from './proxy-status.js';

/** What `/status` asked for, read from the query string. */
export type StatusQuery =
  | { readonly view: 'full' }
  | ({ readonly view: 'compact' } & CompactStatusQuery)
  | { readonly view: 'invalid'; readonly message: string };

/** The answer to one `/status` request: a body, or a 400 with its message. */
export type StatusAnswer =
  | { readonly statusCode: 200; readonly body: unknown }
  | { readonly statusCode: 400; readonly message: string };

const COMPACT_ONLY = ['since', 'agent'] as const;
// Agent indexes are hostfile lines: a few digits, never a sign or a fraction.
const AGENT_INDEX = /^\d{1,9}$/;

/**
 * Read the query of a `/status` request target (`/status?view=compact&since=...`).
 * Pure and total: anything that is not ours is ignored, a bad value of ours is
 * `invalid` with the message the client gets.
 */
export function parseStatusQuery(target: string): StatusQuery {
  const start = target.indexOf('?');
  if (start < 0) return { view: 'full' };
  const query = new URLSearchParams(target.slice(start + 1));
  const view = query.get('view') ?? 'full';
  if (view !== 'full' && view !== 'compact') {
    return {
      view: 'invalid',
      message: `unknown view ${JSON.stringify(view)} on /status: use view=compact, or no view for the full body`,
    };
  }
  if (view === 'full') {
    const given = COMPACT_ONLY.find((name) => query.has(name));
    return given === undefined
      ? { view: 'full' }
      : { view: 'invalid', message: `${given}= on /status needs view=compact` };
  }
  const agent = query.get('agent');
  if (agent !== null && !AGENT_INDEX.test(agent)) {
    return {
      view: 'invalid',
      message: `agent=${JSON.stringify(agent)} on /status: expected an agent index (0, 1, 2...)`,
    };
  }
  return {
    view: 'compact',
    since: query.get('since') ?? undefined,
    agent: agent === null ? undefined : Number(agent),
  };
}

/** Answers `/status` for one proxy (the compact view keeps its change tracking here). */
export class StatusRoute {
  readonly #source: StatusSource;
  readonly #compact: CompactStatus;

  constructor(source: StatusSource) {
    this.#source = source;
    this.#compact = new CompactStatus(source);
  }

  /** The answer to a request for `target` (the request's URL: path and query). */
  answer(target: string): StatusAnswer {
    const query = parseStatusQuery(target);
    switch (query.view) {
      case 'full':
        return { statusCode: 200, body: buildStatus(this.#source) };
      case 'compact':
        return { statusCode: 200, body: this.#compact.answer(query) };
      case 'invalid':
        return { statusCode: 400, message: query.message };
    }
  }
}
