/**
 * The status page in a real browser: Debian's headless Chromium driven by
 * playwright-core, against mock agents and the proxy on 127.0.0.1:0. Every wait is
 * Playwright's (a locator or a predicate polled in the page), never a sleep; the page
 * polls every 0.1 s (`?refresh=0.1`) so each change shows up at once.
 *
 * Without /usr/bin/chromium the suite is skipped with a message, except under CI
 * (`CI` set), where that is a failure: .ci/run installs it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { AgentEndpoint } from '../../../src/hostfile/agent-endpoint.js';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import { open, send, startTestProxy } from '../proxy-test-helpers.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const chromiumMissing = !existsSync(CHROMIUM_PATH);
const skip =
  chromiumMissing && process.env.CI === undefined
    ? `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium) to run the status page tests`
    : false;
const REFRESH = '?refresh=0.1';
const TEST_TIMEOUT_MS = 60_000;
// Playwright's own bound on each wait: a safety net that fails sooner than the test timeout.
const WAIT_TIMEOUT_MS = 20_000;
const TOKEN = 'browser-token-0123456789';

/** A page in a fresh browser context, with every request and every page error recorded. */
interface OpenedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every URL the page asked for (the ones outside the proxy's origin were blocked). */
  readonly requestUrls: string[];
  /** Console errors (CSP violations among them) and uncaught exceptions. */
  readonly errors: string[];
  /**
   * Assert that the page only ever talked to `origin` and reported no error; with
   * `allowFailedLoads`, the browser's own "Failed to load resource" lines (a 401, a
   * refused connection) are not errors of the page.
   */
  assertClean(origin: string, options?: { allowFailedLoads?: boolean }): void;
}

describe('status page in headless Chromium', { skip }, () => {
  let browser: Browser | undefined;

  before(async () => {
    if (chromiumMissing) {
      throw new Error(
        `${CHROMIUM_PATH} is missing but CI is set: CI must install Debian's chromium (see .ci/run)`,
      );
    }
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  after(() => browser?.close());

  async function openPage(
    t: { after(fn: () => unknown): void },
    origin: string,
  ): Promise<OpenedPage> {
    const context = await (browser as Browser).newContext({
      viewport: { width: 1200, height: 800 },
    });
    t.after(() => context.close());
    const requestUrls: string[] = [];
    const errors: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      return route.abort('blockedbyclient');
    });
    context.setDefaultTimeout(WAIT_TIMEOUT_MS);
    const page = await context.newPage();
    page.on('request', (request) => requestUrls.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    return {
      page,
      context,
      requestUrls,
      errors,
      assertClean: (expectedOrigin, options = {}) => {
        assert.ok(requestUrls.length > 0);
        for (const url of requestUrls) {
          assert.ok(url.startsWith(`${expectedOrigin}/`), `request outside the proxy: ${url}`);
        }
        const pageErrors = options.allowFailedLoads
          ? errors.filter((text) => !text.startsWith('Failed to load resource'))
          : errors;
        assert.deepEqual(pageErrors, []);
      },
    };
  }

  const cell = (page: Page, index: number) => page.locator(`#grid .cell[data-index="${index}"]`);
  const detail = (page: Page, name: string) => page.locator(`#details dt:text-is("${name}") + dd`);
  const waitText = (page: Page, selector: string, text: string | RegExp) =>
    page.locator(selector, { hasText: text }).waitFor();
  const exact = (text: string) => new RegExp(`^${text}$`);

  test('one cell per agent; totals, details and cells follow the swarm in place', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const swarm = await startMockSwarm({
      count: 6,
      tags: (index) => (index === 2 ? { role: 'critic' } : undefined),
    });
    t.after(() => swarm.close());
    // Health checks on (no round during the test): one refused request marks an agent down.
    const proxy = await startTestProxy(t, swarm.endpoints, {
      healthIntervalSeconds: 3600,
      unhealthyThreshold: 1,
    });
    const opened = await openPage(t, proxy.url);
    const { page } = opened;
    await page.goto(`${proxy.url}/${REFRESH}`);

    await page.locator('#connection[data-state="live"]').waitFor();
    await cell(page, 5).waitFor();
    assert.equal(await page.locator('#grid .cell').count(), 6);
    await waitText(page, '#total-agents', exact('6'));
    assert.equal(await page.locator('#total-in-flight').textContent(), '0');
    assert.equal(await page.locator('#total-queued').textContent(), '0');
    assert.match((await cell(page, 0).getAttribute('aria-label')) ?? '', /^Agent 0, 127\.0\.0\.1:/);
    // Cells are updated in place, never rebuilt.
    await cell(page, 3).evaluate((node) => {
      (node as unknown as { marked: boolean }).marked = true;
    });

    for (let request = 0; request < 3; request++) {
      assert.equal((await send(proxy.url, '/agent/3/v1/models')).status, 200);
    }
    await waitText(page, '#total-requests', exact('3 in total'));
    await cell(page, 3).hover();
    await page.locator('#details').waitFor();
    await waitText(page, '#details', 'Agent 3');
    await detail(page, 'requests')
      .filter({ hasText: exact('3') })
      .waitFor();
    assert.equal(await detail(page, 'address').textContent(), `127.0.0.1:${swarm.agents[3]?.port}`);
    assert.equal(await detail(page, 'tags').textContent(), 'none');
    assert.equal(
      await cell(page, 3).evaluate((node) => (node as unknown as { marked?: boolean }).marked),
      true,
    );
    await cell(page, 2).hover();
    await waitText(page, '#details', 'Agent 2');
    assert.equal(await detail(page, 'tags').textContent(), 'role=critic');

    // A request held by the agent is in flight until its client leaves.
    swarm.agents[4]?.setBehavior({ failure: 'hang' });
    const arrived = swarm.agents[4]!.nextRequest();
    const held = open(proxy.url, '/agent/4/v1/models');
    held.response.catch(() => undefined);
    await arrived;
    await waitText(page, '#total-in-flight', exact('1'));
    await page.locator('#grid .cell.load-1[data-index="4"]').waitFor();
    held.request.destroy();
    await waitText(page, '#total-in-flight', exact('0'));
    await page.locator('#grid .cell.load-0[data-index="4"]').waitFor();

    // A stopped agent: its errors show, and its health when the proxy reports it.
    await swarm.agents[5]?.stop();
    assert.equal((await send(proxy.url, '/agent/5/v1/models')).status, 502);
    await page.locator('#grid .cell.errored[data-index="5"]').waitFor();
    const status = JSON.parse((await send(proxy.url, '/status')).text) as {
      endpoints: Array<{ healthy?: unknown }>;
    };
    if (typeof status.endpoints[5]?.healthy === 'boolean') {
      await page.locator('#grid .cell.down[data-index="5"]').waitFor();
    } else {
      assert.equal(
        await cell(page, 5).evaluate((node) => node.classList.contains('unknown')),
        true,
      );
      assert.equal(await page.locator('#total-healthy-sub').textContent(), 'not reported');
    }
    await cell(page, 5).hover();
    await detail(page, 'errors')
      .filter({ hasText: exact('1') })
      .waitFor();

    // Keyboard: one tab stop for the grid, arrows move, details follow the focus.
    await page.mouse.move(0, 0);
    await cell(page, 0).focus();
    await waitText(page, '#details', 'Agent 0');
    await page.keyboard.press('ArrowRight');
    await page.locator('#grid .cell[data-index="1"]:focus').waitFor();
    await waitText(page, '#details', 'Agent 1');
    await page.keyboard.press('End');
    await page.locator('#grid .cell[data-index="5"]:focus').waitFor();
    assert.equal(await page.locator('#grid .cell[tabindex="0"]').count(), 1);
    await page.keyboard.press('Escape');
    await page.locator('#details').waitFor({ state: 'hidden' });

    opened.assertClean(proxy.url);
  });

  test('8,000 agents: every one gets a cell that stays live', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const agentCount = 8000;
    // Real agents behind every index: the two mock agents, alternately.
    const endpoints: AgentEndpoint[] = Array.from(
      { length: agentCount },
      (_, index) => swarm.endpoints[index % 2] as AgentEndpoint,
    );
    const proxy = await startTestProxy(t, endpoints);
    const opened = await openPage(t, proxy.url);
    const { page } = opened;
    // Slower polls: each answer is about a megabyte of JSON.
    await page.goto(`${proxy.url}/?refresh=0.25`);
    await cell(page, agentCount - 1).waitFor();
    assert.equal(await page.locator('#grid .cell').count(), agentCount);
    await waitText(page, '#total-agents', exact('8,000'));
    await cell(page, 0).evaluate((node) => {
      (node as unknown as { marked: boolean }).marked = true;
    });

    assert.equal((await send(proxy.url, `/agent/${agentCount - 1}/v1/models`)).status, 200);
    await waitText(page, '#total-requests', exact('1 in total'));
    await cell(page, agentCount - 1).hover();
    await waitText(page, '#details', `Agent ${agentCount - 1}`);
    await detail(page, 'requests')
      .filter({ hasText: exact('1') })
      .waitFor();
    assert.equal(await page.locator('#grid .cell').count(), agentCount);
    assert.equal(
      await cell(page, 0).evaluate((node) => (node as unknown as { marked?: boolean }).marked),
      true,
    );
    opened.assertClean(proxy.url);
  });

  test('a proxy that goes away shows "disconnected" and comes back live', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const swarm = await startMockSwarm({ count: 3 });
    t.after(() => swarm.close());
    const first = await startTestProxy(t, swarm.endpoints);
    const opened = await openPage(t, first.url);
    const { page } = opened;
    await page.goto(`${first.url}/${REFRESH}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await cell(page, 2).waitFor();

    await first.close(0);
    await page.locator('#connection[data-state="disconnected"]').waitFor();
    await waitText(page, '#connection-text', /disconnected .*retrying/);
    await page.locator('#grid.stale').waitFor();
    assert.equal(await page.locator('#grid .cell').count(), 3, 'the last grid stays on screen');

    const second = await startTestProxy(t, swarm.endpoints, { port: first.port });
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.locator('#grid:not(.stale)').waitFor();
    assert.equal(second.url, first.url);
    opened.assertClean(first.url, { allowFailedLoads: true });
  });

  test('with --token: an explanation, then ?token= gives a cookie for the page and /status only', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const swarm = await startMockSwarm({ count: 4 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { token: TOKEN, logLevel: 'DEBUG' });
    const opened = await openPage(t, proxy.url);
    const { page, context } = opened;

    const denied = await page.goto(`${proxy.url}/`);
    assert.equal(denied?.status(), 401);
    await waitText(page, 'h1', 'token needed');
    await waitText(page, 'body', `/?token=<token>`);

    const wrong = await page.goto(`${proxy.url}/?token=wrong`);
    assert.equal(wrong?.status(), 401);
    await waitText(page, 'body', 'token in the address is wrong');

    await page.goto(`${proxy.url}/?token=${TOKEN}`);
    assert.equal(page.url(), `${proxy.url}/`, 'the token left the address bar');
    await page.locator('#connection[data-state="live"]').waitFor();
    await cell(page, 3).waitFor();
    const cookies = await context.cookies();
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]?.httpOnly, true);
    assert.equal(cookies[0]?.sameSite, 'Strict');
    assert.notEqual(cookies[0]?.value, TOKEN);

    // The page's own script cannot read the cookie, nor reach an agent with it.
    const fromPage = await page.evaluate(async () => {
      const browserGlobals = globalThis as unknown as { document: { cookie: string } };
      const agent = await fetch('agent/0/v1/models');
      const status = await fetch('status');
      return { cookie: browserGlobals.document.cookie, agent: agent.status, status: status.status };
    });
    assert.deepEqual(fromPage, { cookie: '', agent: 401, status: 200 });
    assert.equal(swarm.agents[0]?.stats.requests, 0);

    // A proxy restarted with another token: the page says so, and keeps trying.
    await proxy.close(0);
    const other = await startTestProxy(t, swarm.endpoints, {
      token: 'another-token',
      port: proxy.port,
    });
    await page.locator('#connection[data-state="unauthorized"]').waitFor();
    await waitText(page, '#connection-text', '/?token=');
    await other.close(0);

    assert.ok(!proxy.logLines.join('').includes(TOKEN));
    assert.ok(
      !opened.requestUrls.some((url) => url.includes(TOKEN) && !url.endsWith(`/?token=${TOKEN}`)),
    );
    opened.assertClean(proxy.url, { allowFailedLoads: true });
  });

  test('every /status field shows; text stays text; absent fields degrade', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const opened = await openPage(t, proxy.url);
    const { page } = opened;
    const endpoint = (index: number, extra: Record<string, unknown>) => ({
      index,
      host: `compute-00${index}`,
      port: 8000,
      tags: { node: `aurora-000${index}` },
      in_flight: index === 0 ? 9 : 0,
      requests: 50,
      errors: 0,
      client_aborts: 0,
      ...extra,
    });
    let polls = 0;
    let answer: 'full' | 'checks-off' | 'garbage' = 'full';
    await page.route(`${proxy.url}/status`, (route) => {
      polls++;
      if (answer === 'garbage') return route.fulfill({ status: 200, body: 'not json' });
      const full = answer === 'full';
      // Every poll: 15 more requests over 2 more seconds of uptime → 7.5 requests/s.
      return route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          agents: 3,
          uptime_seconds: 10 + polls * 2,
          healthy_agents: 1,
          in_flight: 9,
          queued: 4,
          connector_limit: 1024,
          timeout_seconds: 300,
          requests_total: 100 + polls * 15,
          health_checks: full,
          ...(full ? {} : { worker: { index: 2, count: 4, pid: 1, counters: 'this worker only' } }),
          endpoints: [
            endpoint(0, {
              healthy: true,
              last_error: '<img src=x onerror="window.hacked=1">boom',
              last_error_at: new Date().toISOString(),
              latency_ms: { p50: 120, p90: 400, p99: 900 },
              ttfb_ms: { p50: 8.25, p90: 20, p99: 35 },
            }),
            endpoint(1, {
              healthy: false,
              last_error: null,
              last_error_at: null,
              latency_ms: null,
            }),
            endpoint(2, {}),
          ],
        }),
      });
    });
    await page.goto(`${proxy.url}/${REFRESH}`);
    await page.locator('#grid .cell.up.load-4[data-index="0"]').waitFor();
    await page.locator('#grid .cell.down[data-index="1"]').waitFor();
    await page.locator('#grid .cell.unknown[data-index="2"]').waitFor();
    await waitText(page, '#total-healthy', exact('1'));
    assert.equal(await page.locator('#total-healthy-sub').textContent(), '2 unhealthy');
    assert.equal(await page.locator('#total-in-flight').textContent(), '9');
    assert.equal(await page.locator('#total-queued').textContent(), '4');
    await waitText(page, '#total-rate', exact('7.5'));
    await page.waitForFunction(() => {
      const browserGlobals = globalThis as unknown as {
        document: { getElementById(id: string): { getAttribute(name: string): string | null } };
      };
      const points = browserGlobals.document.getElementById('spark-line').getAttribute('points');
      return (points ?? '').split(' ').length >= 3;
    });

    await cell(page, 0).hover();
    await waitText(page, '#details', 'Agent 0');
    assert.equal(await page.locator('#details .badge').textContent(), 'healthy');
    assert.equal(await detail(page, 'address').textContent(), 'compute-000:8000');
    assert.equal(await detail(page, 'tags').textContent(), 'node=aurora-0000');
    assert.equal(await detail(page, 'in flight').textContent(), '9');
    assert.equal(await detail(page, 'latency p50 / p99').textContent(), '120 ms / 900 ms');
    assert.equal(await detail(page, 'first byte p50 / p99').textContent(), '8.3 ms / 35 ms');
    assert.equal(
      await detail(page, 'last error').textContent(),
      '<img src=x onerror="window.hacked=1">boom',
    );
    assert.match((await detail(page, 'last error at').textContent()) ?? '', /ago\)$/);
    assert.equal(await page.locator('#details img').count(), 0);
    await cell(page, 1).hover();
    await waitText(page, '#details', 'Agent 1');
    assert.equal(await page.locator('#details .badge').textContent(), 'unhealthy');
    assert.equal(await detail(page, 'last error').textContent(), 'none');
    assert.equal(await detail(page, 'latency p50 / p99').textContent(), '—');
    await cell(page, 2).hover();
    await waitText(page, '#details', 'Agent 2');
    assert.equal(await detail(page, 'healthy').textContent(), 'not reported');

    // Health checks off: "healthy: true" everywhere is no news.
    answer = 'checks-off';
    await page.locator('#grid .cell.unknown[data-index="0"]').waitFor();
    await waitText(page, '#total-healthy-sub', 'checks off');
    assert.equal(await page.locator('#total-healthy').textContent(), '—');
    await waitText(page, '#updated', 'worker 2/4: its counters only');

    answer = 'garbage';
    await waitText(page, '#connection-text', 'unexpected answer from /status');
    assert.equal(await page.locator('#grid .cell').count(), 3);
    assert.equal(await page.evaluate(() => 'hacked' in globalThis), false);
    opened.assertClean(proxy.url);
  });
});
