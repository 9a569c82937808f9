/**
 * What the status page makes of each answer it can get, in headless Chromium: the
 * page's polls are answered by the test (Playwright's route) with the full form of
 * an older proxy, the compact form, odd entries and garbage. Only an answer that is
 * not there (refused, cut, timed out) may be called "proxy unreachable".
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { Page, Route } from 'playwright-core';
import {
  BROWSER_TEST,
  cell,
  describeInBrowser,
  detail,
  exact,
  type PageGlobals,
  pageOnSwarm,
  waitText,
} from './browser-harness.js';

const REFRESH = '?refresh=0.1';

/** Answer the page's polls of `status` with whatever `answer` returns at the time. */
async function answerPolls(page: Page, origin: string, answer: (route: Route) => unknown) {
  await page.route(
    (url) => url.href.startsWith(`${origin}/status`),
    (route) => answer(route) as Promise<void>,
  );
}

function json(route: Route, body: unknown, status = 200) {
  return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
}

describeInBrowser('status page answers in headless Chromium', (browser) => {
  // The page is opened after the test has routed its polls.
  const pageOnProxy = (t: TestContext) => pageOnSwarm(browser, t, { path: false });

  test(
    'the full form of an older proxy: every field shows; text stays text; absent fields degrade',
    BROWSER_TEST,
    async (t) => {
      const { proxy, opened, page } = await pageOnProxy(t);
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
      await answerPolls(page, proxy.url, (route) => {
        polls++;
        if (answer === 'garbage') return route.fulfill({ status: 200, body: 'not json' });
        const full = answer === 'full';
        // Every poll: 15 more requests over 2 more seconds of uptime → 7.5 requests/s.
        return json(route, {
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
              last_error: '<b>refused</b>',
              last_error_at: null,
              latency_ms: null,
            }),
            endpoint(2, {}),
          ],
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
        const points = (globalThis as unknown as PageGlobals).document
          .getElementById('spark-line')
          ?.getAttribute('points');
        return (points ?? '').split(' ').length >= 3;
      });
      assert.equal(await page.locator('#unhealthy-list li').count(), 1);
      assert.equal(
        await page.locator('#unhealthy-list .error-text').textContent(),
        '<b>refused</b>',
      );

      await cell(page, 0).hover();
      await waitText(page, '#details', 'Agent 0');
      assert.equal(await page.locator('#details .badge').textContent(), 'healthy');
      assert.equal(await page.locator('#details .details-host').textContent(), 'compute-000:8000');
      assert.equal(await detail(page, 'tags').textContent(), 'node=aurora-0000');
      assert.equal(await detail(page, 'in flight').textContent(), '9');
      assert.equal(await detail(page, 'requests').textContent(), '50');
      assert.equal(await detail(page, 'latency p50 / p99').textContent(), '120 ms / 900 ms');
      assert.equal(await detail(page, 'first byte p50 / p99').textContent(), '8.3 ms / 35 ms');
      assert.equal(
        await detail(page, 'last error').textContent(),
        '<img src=x onerror="window.hacked=1">boom',
      );
      assert.match((await detail(page, 'last error at').textContent()) ?? '', /ago\)$/);
      assert.equal(await page.locator('#details img, #unhealthy b').count(), 0);
      await cell(page, 1).hover();
      await waitText(page, '#details', 'Agent 1');
      assert.equal(await page.locator('#details .badge').textContent(), 'unhealthy');
      assert.equal(await detail(page, 'latency p50 / p99').textContent(), '—');
      await cell(page, 2).hover();
      await waitText(page, '#details', 'Agent 2');
      assert.equal(await detail(page, 'healthy').textContent(), 'not reported');

      // Health checks off: "healthy: true" everywhere is no news.
      answer = 'checks-off';
      await page.locator('#grid .cell.unknown[data-index="0"]').waitFor();
      await waitText(page, '#total-healthy-sub', 'checks off');
      assert.equal(await page.locator('#total-healthy').textContent(), '—');
      assert.equal(await page.locator('#unhealthy-list li').count(), 0);
      await waitText(page, '#updated', 'worker 2/4: its counters only');

      answer = 'garbage';
      await waitText(page, '#connection-text', 'unexpected answer from /status');
      assert.equal(await page.locator('#grid .cell').count(), 3);
      assert.equal(await page.evaluate(() => 'hacked' in globalThis), false);
      opened.assertClean(proxy.url);
    },
  );

  test(
    'odd entries and rows are skipped: the page stays live and never says "unreachable"',
    BROWSER_TEST,
    async (t) => {
      const { proxy, opened, page } = await pageOnProxy(t);
      let form: 'full' | 'compact' | 'compact-delta' | 'no-endpoints' = 'full';
      const hosts = [
        { host: 'a', port: 1, tags: {} },
        { host: 'b', port: 2, tags: null },
        null,
        { host: 7, port: 'x' },
      ];
      await answerPolls(page, proxy.url, (route) => {
        switch (form) {
          case 'full':
            return json(route, {
              agents: 5,
              health_checks: true,
              endpoints: [
                { index: 0, host: 'a', port: 1, tags: {}, healthy: true, in_flight: 2 },
                null,
                5,
                'text',
                { host: null, tags: 'x', healthy: 'yes', in_flight: -3, errors: Number.NaN },
              ],
            });
          case 'compact':
            return json(route, {
              view: 'compact',
              version: 'v1',
              full: true,
              agents: 4,
              healthy_agents: 3,
              health_checks: true,
              hosts,
              rows: [[0, 1, 9, 0], null, [1, 0, 0, 1, 'refused'], ['x', 1], [99, 0, 0, 0], [3]],
            });
          case 'compact-delta':
            return json(route, {
              view: 'compact',
              version: 'v2',
              full: false,
              agents: 4,
              health_checks: true,
              rows: [[2, 0, 1, 1, null], {}, [-1, 0, 0, 0]],
            });
          case 'no-endpoints':
            return json(route, { agents: 4 });
        }
      });
      await page.goto(`${proxy.url}/${REFRESH}`);
      await cell(page, 4).waitFor();
      await page.locator('#connection[data-state="live"]').waitFor();
      assert.equal(await page.locator('#grid .cell').count(), 5);
      await page.locator('#grid .cell.up.load-2[data-index="0"]').waitFor();
      assert.equal(await page.locator('#grid .cell.unknown').count(), 4);
      assert.equal(await page.locator('#total-in-flight').textContent(), '—');

      form = 'compact';
      await waitText(page, '#total-agents', exact('4'));
      await page.locator('#grid .cell.up.load-4[data-index="0"]').waitFor();
      await page.locator('#grid .cell.down[data-index="1"]').waitFor();
      assert.equal(await page.locator('#grid .cell').count(), 4);
      await waitText(page, '#unhealthy-list', 'refused');
      await cell(page, 2).hover();
      await waitText(page, '#details .details-host', /^\?:\?$/);

      form = 'compact-delta';
      await page.locator('#grid .cell.down.load-1[data-index="2"]').waitFor();
      await waitText(page, '#unhealthy-list', 'no error recorded');
      // The page sent back the version it had, and asks for the agent on screen.
      assert.ok(opened.requestUrls.some((url) => /since=v1&agent=2$/.test(url)));
      assert.equal(await page.locator('#connection').getAttribute('data-state'), 'live');

      form = 'no-endpoints';
      await waitText(page, '#connection-text', 'unexpected answer from /status');
      assert.doesNotMatch(
        (await page.locator('#connection-text').textContent()) ?? '',
        /unreachable/,
      );
      assert.equal(await page.locator('#grid .cell').count(), 4);
      opened.assertClean(proxy.url);
    },
  );

  test(
    'an error answer is named with the proxy\'s message; a refused poll is "unreachable"',
    BROWSER_TEST,
    async (t) => {
      const { proxy, opened, page } = await pageOnProxy(t);
      let mode: 'ok' | 'error' | 'refused' = 'ok';
      await answerPolls(page, proxy.url, (route) => {
        if (mode === 'error') return json(route, { error: 'the proxy is shutting down' }, 503);
        if (mode === 'refused') return route.abort('connectionrefused');
        return route.continue();
      });
      await page.goto(`${proxy.url}/${REFRESH}`);
      await page.locator('#connection[data-state="live"]').waitFor();
      mode = 'error';
      await waitText(
        page,
        '#connection-text',
        'disconnected (HTTP 503: the proxy is shutting down)',
      );
      mode = 'refused';
      await waitText(page, '#connection-text', 'disconnected (proxy unreachable)');
      mode = 'ok';
      await page.locator('#connection[data-state="live"]').waitFor();
      opened.assertClean(proxy.url, { allowFailedLoads: true });
    },
  );
});
