/**
 * The proxy's own JSON and text routes: `/health`, `/status`, `/hosts` and
 * `/metrics` (the status page, `/`, is status-page/status-page-route.ts). Each
 * answers `GET` and `HEAD`, anything else 405; the bodies are read from the running
 * proxy at the moment of the request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { allowOnlyGet, sendJson, sendJsonError, sendText } from '../json-response.js';
import type { ProxyLogger } from '../proxy-logger.js';
import type { ProxyMetrics } from '../proxy-metrics.js';
import { LOCAL_ROUTES, type LocalRouteKind } from '../route-table.js';
import type { StatusAnswer } from '../status-page/status-route.js';

/** The local routes answered here (all but the status page). */
export type JsonRouteKind = Exclude<LocalRouteKind, 'page'>;

/** Where the local routes read their answers. */
export interface LocalRouteSources {
  /** The `/status` answer now, for the request target (its query picks the form). */
  readonly status: (target: string) => StatusAnswer;
  /** The `/hosts` body now. */
  readonly hosts: () => unknown;
  readonly metrics: Pick<ProxyMetrics, 'render' | 'contentType'>;
  readonly logger: ProxyLogger;
}

const PATH_OF = new Map<string, string>(LOCAL_ROUTES.map(({ kind, path }) => [kind, path]));
const HEALTH_BODY = { status: 'ok' };

/** Answers the local JSON and text routes. */
export class LocalRoutes {
  readonly #sources: LocalRouteSources;
  readonly #answers: Readonly<
    Record<JsonRouteKind, (request: IncomingMessage, response: ServerResponse) => void>
  >;

  constructor(sources: LocalRouteSources) {
    this.#sources = sources;
    this.#answers = {
      health: (_request, response) => sendJson(response, 200, HEALTH_BODY),
      status: (request, response) => {
        const answer = sources.status(request.url ?? '/status');
        if (answer.statusCode === 200) sendJson(response, 200, answer.body);
        else sendJsonError(response, 400, answer.message);
      },
      hosts: (_request, response) => sendJson(response, 200, sources.hosts()),
      metrics: (_request, response) => this.#answerMetrics(response),
    };
  }

  /** Answer `request` for the local route `kind`. Never throws. */
  answer(kind: JsonRouteKind, request: IncomingMessage, response: ServerResponse): void {
    if (allowOnlyGet(request.method, response, PATH_OF.get(kind) as string)) {
      this.#answers[kind](request, response);
    }
  }

  #answerMetrics(response: ServerResponse): void {
    const { metrics, logger } = this.#sources;
    metrics.render().then(
      (text) => sendText(response, 200, metrics.contentType, text),
      (error: unknown) => {
        logger.error(`cannot render /metrics: ${String(error)}`);
        sendJsonError(response, 500, 'cannot render the metrics');
      },
    );
  }
}
