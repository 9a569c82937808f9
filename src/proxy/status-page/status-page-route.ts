/**
 * `GET /`: the status page, and the browser's way past `--token` (see
 * status-page-session.ts; which routes the cookie opens is the request gate's
 * business, server/request-gate.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { allowOnlyGet } from '../json-response.js';
import type { ProxyLogger } from '../proxy-logger.js';
import { sendStatusPage, sendStatusPageLogin, sendStatusPageRedirect } from './status-page.js';
import { type StatusPageSession, tokenCandidates } from './status-page-session.js';

/**
 * Answer `/`. `session` is the proxy's when it has a token and the request did not
 * carry a good `Proxy-Authorization`; `undefined` when the page is open to it.
 * The token is never logged: only the fact that a wrong one was tried, and from where.
 */
export function answerStatusPage(
  request: IncomingMessage,
  response: ServerResponse,
  session: StatusPageSession | undefined,
  logger: ProxyLogger,
): void {
  const method = request.method;
  if (!allowOnlyGet(method, response, '/')) return;
  if (session === undefined) {
    sendStatusPage(response, method);
    return;
  }
  const candidates = tokenCandidates(request.url ?? '/');
  if (candidates.length > 0) {
    // Check every candidate so the time taken does not say which one matched.
    const matches = candidates.map((candidate) => session.tokenMatches(candidate));
    if (matches.includes(true)) {
      logger.debug(`status page: session cookie set for ${request.socket.remoteAddress}`);
      sendStatusPageRedirect(response, session.setCookieHeader(request.headers.host));
    } else {
      logger.warning(
        `status page: wrong token in the address of a request from ${request.socket.remoteAddress}`,
      );
      sendStatusPageLogin(response, method, request.headers.host, true);
    }
    return;
  }
  if (session.cookieMatches(request.headers.cookie)) sendStatusPage(response, method);
  else sendStatusPageLogin(response, method, request.headers.host, false);
}
