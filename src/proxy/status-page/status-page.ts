/**
 * The status page served at `GET /`: one self-contained HTML document (inline style
 * and script, no fonts, images or scripts from anywhere) so that it works through an
 * SSH tunnel on a laptop without internet. Built once when this module loads, from
 * the markup below and the two real files beside it, assets/status-page-script.js
 * and assets/status-page-style.css (linted and type-checked as browser code by
 * `npm run lint`, copied next to this module by `npm run build`).
 *
 * The Content-Security-Policy allows exactly the inline style and script of this
 * document (by SHA-256 hash) and `fetch` to the proxy itself; nothing else loads.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

const ASSETS = new URL('./assets/', import.meta.url);

/** The page's script, as inlined (assets/status-page-script.js). */
export const STATUS_PAGE_SCRIPT = readFileSync(new URL('status-page-script.js', ASSETS), 'utf8');

const STYLE = readFileSync(new URL('status-page-style.css', ASSETS), 'utf8');

const BODY = `
<header>
  <h1>aurora-swarm <span>proxy</span></h1>
  <p id="connection" class="connection" data-state="connecting" role="status" aria-live="polite">
    <span class="dot" aria-hidden="true"></span><span id="connection-text">connecting…</span></p>
  <p id="updated" class="dim"></p>
  <nav class="raw" aria-label="The proxy's own data"><a href="status">/status</a><a href="metrics">/metrics</a></nav>
</header>
<section class="totals" aria-label="Totals">
  <div class="total"><span class="label">agents</span><span class="value" id="total-agents">—</span><span class="sub"></span></div>
  <div class="total" id="total-healthy-card"><span class="label">healthy</span><span class="value" id="total-healthy">—</span><span class="sub" id="total-healthy-sub"></span></div>
  <div class="total"><span class="label">in flight</span><span class="value" id="total-in-flight">—</span><span class="sub"></span></div>
  <div class="total" id="total-queued-card"><span class="label">queued</span><span class="value" id="total-queued">—</span><span class="sub" id="total-queued-sub"></span></div>
  <div class="total"><span class="label">requests/s</span><span class="value" id="total-rate">—</span><span class="sub" id="total-requests"></span></div>
  <div class="total spark"><span class="label">request rate</span>
    <svg viewBox="0 0 240 48" preserveAspectRatio="none" role="img" aria-label="Requests per second over the last minutes">
      <polygon id="spark-area" points=""></polygon><polyline id="spark-line" points=""></polyline></svg>
    <span class="sub" id="spark-caption"></span></div>
</section>
<section id="unhealthy" class="unhealthy" aria-labelledby="unhealthy-title">
  <h2 id="unhealthy-title">Unhealthy agents <span id="unhealthy-count" class="count"></span></h2>
  <p id="unhealthy-note" class="dim">waiting for the first answer from <code>/status</code>…</p>
  <ol id="unhealthy-list" class="unhealthy-list"></ol>
</section>
<ul class="legend" aria-label="Legend">
  <li><span class="cell load-0" aria-hidden="true"></span>healthy, idle</li>
  <li><span class="cell load-1" aria-hidden="true"></span><span class="cell load-2" aria-hidden="true"></span><span class="cell load-3" aria-hidden="true"></span><span class="cell load-4" aria-hidden="true"></span>fill height = requests in flight: 1, 2–3, 4–7, 8+</li>
  <li><span class="cell down" aria-hidden="true"></span>unhealthy (✕)</li>
  <li><span class="cell unknown load-0" aria-hidden="true"></span>health not reported (dashed)</li>
  <li><span class="cell load-0 errored" aria-hidden="true"></span>errors in the last 30 s (corner)</li>
</ul>
<main>
  <p id="grid-caption" class="dim grid-caption"></p>
  <div id="grid-wrap" class="grid-wrap">
    <div id="ruler" class="ruler" aria-hidden="true"></div>
    <div id="grid" class="grid" role="list" aria-label="Agents: hover or focus one for details; arrow keys move between them"></div>
  </div>
  <p id="empty" hidden>The proxy lists no agents.</p>
</main>
<div id="details" class="details" role="tooltip" hidden></div>
<footer>Refreshed from <code>/status?view=compact</code> (only what changed since the last poll); add <code>?refresh=&lt;seconds&gt;</code> to the address to change the interval.</footer>
`;

function cspHash(source: string): string {
  return `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;
}

if (STATUS_PAGE_SCRIPT.includes('</script') || STATUS_PAGE_SCRIPT.includes('<!--')) {
  throw new Error('the status page script must not contain "</script" or "<!--"');
}
if (STYLE.includes('</style')) {
  throw new Error('the status page stylesheet must not contain "</style"');
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
function statusPageLoginHtml(hostHeader: string | undefined, wrongToken: boolean): string {
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
