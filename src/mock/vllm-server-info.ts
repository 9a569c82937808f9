/**
 * The small operator routes of vLLM's api_server.py: `GET /health` and `GET|POST /ping`
 * (200, empty body), `GET /version` (`{"version"}`), `GET /load` (`{"server_load"}`,
 * the generations in flight, as with `--enable-server-load-tracking`).
 */
import type { VllmDialect } from './mock-behavior.js';
import type { MockExchange } from './mock-exchange.js';

/**
 * The vLLM version each dialect reports on `/version`. The `+mock` local version (PEP
 * 440) keeps a script from mistaking the simulation for a real server.
 */
export const REPORTED_VERSIONS: Readonly<Record<VllmDialect, string>> = {
  current: '0.17.1+mock',
  legacy: '0.10.0+mock',
};

/** `/health`, `/ping`: 200 with an empty body. */
export function serveHealth(exchange: MockExchange): void {
  exchange.response.writeHead(200, { 'content-length': '0' });
  exchange.response.end();
}

/** `GET /version`. */
export function serveVersion(exchange: MockExchange): void {
  exchange.json(JSON.stringify({ version: REPORTED_VERSIONS[exchange.behavior.vllmVersion] }));
}

/** `GET /load`. */
export function serveLoad(exchange: MockExchange): void {
  const { running, waiting } = exchange.slots;
  exchange.json(JSON.stringify({ server_load: running + waiting }));
}
