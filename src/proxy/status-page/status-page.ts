/**
 * The status page served at `GET /`: one self-contained HTML document (inline style
 * and script, no fonts, images or scripts from anywhere) so that it works through an
 * SSH tunnel on a laptop without internet. Built once when this module loads.
 *
 * The Content-Security-Policy allows exactly the inline style and script of this
 * document (by SHA-256 hash) and `fetch` to the proxy itself; nothing else loads.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { STATUS_PAGE_SCRIPT } from './status-page-script.js';

const STYLE = `
:root { color-scheme: light dark; --text: #1d2430; --dim: #5d6878; --card: #f3f5f8; --line: #d9dee6;
  --page: #ffffff; --up: #0b7a5a; --up-empty: #bfe6d5; --down: #c8391c; --unknown: #5f6b7a;
  --unknown-empty: #dde2e8; --mark: #e69f00; --focus: #1a56db; --warn: #b04a00; }
@media (prefers-color-scheme: dark) {
  :root { --text: #e6e9ee; --dim: #9aa5b4; --card: #1b2029; --line: #2d3440; --page: #11151b;
    --up-empty: #1f4a3c; --unknown-empty: #3a424e; --focus: #7aa7ff; --warn: #ffb35c; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px 24px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: var(--text); background: var(--page); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 16px; margin-bottom: 12px; }
h1 { font-size: 18px; margin: 0; font-weight: 650; }
h1 span, .dim { color: var(--dim); font-weight: 400; }
p { margin: 0; }
.connection { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px;
  background: var(--card); border: 1px solid var(--line); font-size: 13px; }
.connection .dot { width: 9px; height: 9px; border-radius: 50%; background: var(--dim); }
.connection[data-state="live"] .dot { background: var(--up); }
.connection[data-state="disconnected"], .connection[data-state="unauthorized"] { border-color: var(--down); color: var(--down); font-weight: 600; }
.connection[data-state="disconnected"] .dot, .connection[data-state="unauthorized"] .dot { background: var(--down); border-radius: 1px; }
.totals { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 12px; }
.total { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 112px; }
.total .label { display: block; font-size: 12px; color: var(--dim); text-transform: uppercase; letter-spacing: .04em; }
.total .value { display: block; font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.total .sub { display: block; font-size: 12px; color: var(--dim); min-height: 17px; }
.total.warn .value { color: var(--warn); }
.total.spark { min-width: 260px; }
.total svg { display: block; width: 240px; height: 40px; margin-top: 4px; }
#spark-line { fill: none; stroke: var(--focus); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
#spark-area { fill: var(--focus); opacity: .14; stroke: none; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 12px; padding: 0; list-style: none; color: var(--dim); font-size: 13px; }
.legend li { display: inline-flex; align-items: center; gap: 6px; }
.legend .cell { --cell: 14px; display: inline-block; }
.grid { display: grid; gap: var(--gap); grid-template-columns: repeat(auto-fill, var(--cell)); --cell: 26px; --gap: 4px; }
.grid.size-m { --cell: 16px; --gap: 2px; }
.grid.size-s { --cell: 11px; --gap: 2px; }
.grid.size-xs { --cell: 8px; --gap: 1px; }
.grid.stale { opacity: .4; filter: grayscale(.7); }
.cell { --fill: var(--up); --empty: var(--up-empty); --level: 0%; position: relative; width: var(--cell); height: var(--cell);
  border-radius: 2px; background: linear-gradient(to top, var(--fill) var(--level), var(--empty) var(--level)); }
.cell.load-1 { --level: 25%; } .cell.load-2 { --level: 50%; } .cell.load-3 { --level: 75%; } .cell.load-4 { --level: 100%; }
.cell.unknown { --fill: var(--unknown); --empty: var(--unknown-empty); outline: 1px dashed var(--unknown); outline-offset: -1px; }
.cell.down { background: linear-gradient(45deg, transparent 42%, #fff 42%, #fff 58%, transparent 58%),
  linear-gradient(-45deg, transparent 42%, #fff 42%, #fff 58%, transparent 58%), var(--down); }
.cell.errored::after { content: ""; position: absolute; top: 0; right: 0; border-style: solid; border-color: transparent;
  border-width: 0 calc(var(--cell) * .5) calc(var(--cell) * .5) 0; border-right-color: var(--mark); }
.cell:hover { outline: 2px solid var(--text); outline-offset: 1px; z-index: 1; }
.cell:focus-visible { outline: 2px solid var(--focus); outline-offset: 1px; z-index: 1; }
#empty { color: var(--dim); padding: 24px 0; }
.details { position: fixed; z-index: 10; max-width: 380px; padding: 10px 12px; border-radius: 8px; pointer-events: none;
  background: var(--page); color: var(--text); border: 1px solid var(--line); box-shadow: 0 6px 24px rgba(0, 0, 0, .18); font-size: 13px; }
.details[hidden] { display: none; }
.details-title { display: flex; align-items: center; gap: 8px; margin-bottom: 6px; font-size: 14px; }
.details dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0; }
.details dt { color: var(--dim); }
.details dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.details .error-text { color: var(--down); }
.badge { font-size: 12px; padding: 0 8px; border-radius: 999px; color: #fff; background: var(--up); }
.badge.down { background: var(--down); } .badge.unknown { background: var(--unknown); }
footer { margin-top: 16px; color: var(--dim); font-size: 12px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
`;

const BODY = `
<header>
  <h1>aurora-swarm <span>proxy</span></h1>
  <p id="connection" class="connection" data-state="connecting" role="status" aria-live="polite">
    <span class="dot" aria-hidden="true"></span><span id="connection-text">connecting…</span></p>
  <p id="updated" class="dim"></p>
</header>
<section class="totals" aria-label="Totals">
  <div class="total"><span class="label">agents</span><span class="value" id="total-agents">—</span><span class="sub"></span></div>
  <div class="total"><span class="label">healthy</span><span class="value" id="total-healthy">—</span><span class="sub" id="total-healthy-sub"></span></div>
  <div class="total"><span class="label">in flight</span><span class="value" id="total-in-flight">—</span><span class="sub"></span></div>
  <div class="total"><span class="label">queued</span><span class="value" id="total-queued">—</span><span class="sub" id="total-queued-sub"></span></div>
  <div class="total"><span class="label">requests/s</span><span class="value" id="total-rate">—</span><span class="sub" id="total-requests"></span></div>
  <div class="total spark"><span class="label">request rate</span>
    <svg viewBox="0 0 240 48" preserveAspectRatio="none" role="img" aria-label="Requests per second over the last minutes">
      <polygon id="spark-area" points=""></polygon><polyline id="spark-line" points=""></polyline></svg>
    <span class="sub" id="spark-caption"></span></div>
</section>
<ul class="legend" aria-label="Legend">
  <li><span class="cell load-0" aria-hidden="true"></span>healthy, idle</li>
  <li><span class="cell load-1" aria-hidden="true"></span><span class="cell load-2" aria-hidden="true"></span><span class="cell load-3" aria-hidden="true"></span><span class="cell load-4" aria-hidden="true"></span>fill height = requests in flight: 1, 2–3, 4–7, 8+</li>
  <li><span class="cell down" aria-hidden="true"></span>unhealthy (✕)</li>
  <li><span class="cell unknown load-0" aria-hidden="true"></span>health not reported (dashed)</li>
  <li><span class="cell load-0 errored" aria-hidden="true"></span>errors in the last 30 s (corner)</li>
</ul>
<main>
  <div id="grid" class="grid" role="list" aria-label="Agents: hover or focus one for details; arrow keys move between them"></div>
  <p id="empty" hidden>The proxy lists no agents.</p>
</main>
<div id="details" class="details" role="tooltip" hidden></div>
<footer>Refreshed from <code>/status</code>; add <code>?refresh=&lt;seconds&gt;</code> to the address to change the interval.</footer>
`;

function cspHash(source: string): string {
  return `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;
}

if (STATUS_PAGE_SCRIPT.includes('</script') || STATUS_PAGE_SCRIPT.includes('<!--')) {
  throw new Error('the status page script must not contain "</script" or "<!--"');
}

/** The status page, a complete HTML document. */
export const STATUS_PAGE_HTML =
  '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">' +
  '<meta name="referrer" content="no-referrer">' +
  // An empty data: icon keeps the browser from asking the proxy for /favicon.ico.
  '<link rel="icon" href="data:,"><title>aurora-swarm proxy</title>' +
  `<style>${STYLE}</style></head><body>${BODY}<script>${STATUS_PAGE_SCRIPT}</script></body></html>\n`;

/**
 * Content-Security-Policy of the status page: its own inline style and script (by
 * hash), `fetch` to the proxy's origin, the empty `data:` icon, and nothing else.
 */
export const STATUS_PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${cspHash(STATUS_PAGE_SCRIPT)}`,
  `style-src ${cspHash(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const LOGIN_STYLE = `
body { margin: 0; padding: 32px; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; max-width: 720px; }
h1 { font-size: 20px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; background: rgba(127, 127, 127, .15); padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
`;

const LOGIN_CONTENT_SECURITY_POLICY = `default-src 'none'; style-src ${cspHash(LOGIN_STYLE)}; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] as string);
}

// Host header values worth echoing into an example address; anything else gets the default.
const PLAIN_HOST = /^[A-Za-z0-9.[\]:-]{1,260}$/;

/**
 * The page a browser gets instead of the status page when the proxy has a token and
 * the request carries none (or a wrong one): how to open the page.
 * @param hostHeader The request's `Host`, used in the example address when plain.
 * @param wrongToken Whether a `?token=` was given but did not match.
 */
export function statusPageLoginHtml(hostHeader: string | undefined, wrongToken: boolean): string {
  const host =
    hostHeader !== undefined && PLAIN_HOST.test(hostHeader) ? hostHeader : 'localhost:9090';
  const address = escapeHtml(`http://${host}/?token=`);
  const reason = wrongToken
    ? '<p><strong>The token in the address is wrong.</strong></p>'
    : '<p>This proxy was started with a token (<code>--token</code> or <code>AURORA_SWARM_PROXY_TOKEN</code>).</p>';
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">' +
    `<title>aurora-swarm proxy: token needed</title><style>${LOGIN_STYLE}</style></head><body>` +
    '<h1>aurora-swarm proxy: token needed</h1>' +
    reason +
    `<p>Open the status page once as <code>${address}&lt;token&gt;</code>. ` +
    'The proxy then sets a cookie (HttpOnly, SameSite=Strict) that lets this browser see the ' +
    'status page, <code>/status</code>, <code>/metrics</code> and <code>/hosts</code> — not the agents — and ' +
    'sends you back here without the token in the address.</p>' +
    '<p>Scripts and <code>curl</code> send the header ' +
    '<code>Proxy-Authorization: Bearer &lt;token&gt;</code> instead.</p></body></html>\n'
  );
}

function securityHeaders(contentSecurityPolicy: string, length: number): string[] {
  return [
    'content-type',
    'text/html; charset=utf-8',
    'content-length',
    String(length),
    'cache-control',
    'no-store',
    'content-security-policy',
    contentSecurityPolicy,
    'x-content-type-options',
    'nosniff',
    'x-frame-options',
    'DENY',
    'referrer-policy',
    'no-referrer',
  ];
}

const STATUS_PAGE_BODY = Buffer.from(STATUS_PAGE_HTML, 'utf8');

/** Answer with the status page (headers only for `HEAD`). */
export function sendStatusPage(response: ServerResponse, method: string | undefined): void {
  response.writeHead(
    200,
    securityHeaders(STATUS_PAGE_CONTENT_SECURITY_POLICY, STATUS_PAGE_BODY.length),
  );
  response.end(method === 'HEAD' ? undefined : STATUS_PAGE_BODY);
}

/** Answer 401 with {@link statusPageLoginHtml}. */
export function sendStatusPageLogin(
  response: ServerResponse,
  method: string | undefined,
  hostHeader: string | undefined,
  wrongToken: boolean,
): void {
  const body = Buffer.from(statusPageLoginHtml(hostHeader, wrongToken), 'utf8');
  response.writeHead(401, [
    ...securityHeaders(LOGIN_CONTENT_SECURITY_POLICY, body.length),
    'www-authenticate',
    'Bearer realm="aurora-swarm-proxy"',
  ]);
  response.end(method === 'HEAD' ? undefined : body);
}

/**
 * Answer a page request carrying a good `?token=`: set the session cookie and send
 * the browser back to the page without the token in its address (relative, so a
 * path prefix in front of the proxy is kept).
 */
export function sendStatusPageRedirect(response: ServerResponse, setCookie: string): void {
  response.writeHead(303, [
    'location',
    './',
    'set-cookie',
    setCookie,
    'cache-control',
    'no-store',
    'referrer-policy',
    'no-referrer',
    'content-length',
    '0',
  ]);
  response.end();
}
