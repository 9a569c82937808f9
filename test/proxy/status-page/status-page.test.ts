/**
 * The status page in a real browser: Debian's headless Chromium driven by
 * playwright-core (browser-harness.ts), against mock agents and the proxy on
 * 127.0.0.1:0 (in-process, or the real bin where it is killed). The page polls every
 * 0.1 s (`?refresh=0.1`) so each change shows up at once. The 8,000-agent tests are
 * in status-page-scale.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import {
  open,
  proxyUrlOf,
  send,
  spawnProxy,
  startTestProxy,
  writeHostfile,
} from '../proxy-test-helpers.js';
import {
  BROWSER_TEST,
  cell,
  describeInBrowser,
  detail,
  exact,
  isMarked,
  markNode,
  openPage,
  type PageGlobals,
  pageOnSwarm,
  waitText,
} from './browser-harness.js';

const REFRESH = '?refresh=0.1';
// Health checks on (no round during a test): one refused request marks an agent down.
const HEALTH_CHECKED = { healthIntervalSeconds: 3600, unhealthyThreshold: 1 };
const TOKEN = 'browser-token-0123456789';

/** Whether the element matching `selector` is drawn greyed (the not-live look). */
function greyed(page: Page, selector: string): Promise<boolean> {
  return page
    .locator(selector)
    .evaluate(
      (node) =>
        (globalThis as unknown as PageGlobals).getComputedStyle(node).filter === 'grayscale(1)',
    );
}

/** The text of the `::before` of agent `index`'s square: its number above it. */
function squareNumber(page: Page, index: number): Promise<string> {
  return cell(page, index).evaluate(
    (node) => (globalThis as unknown as PageGlobals).getComputedStyle(node, '::before').content,
  );
}

describeInBrowser('status page in headless Chromium', (browser) => {
  test(
    'one numbered square per agent; totals, details and squares follow the swarm in place',
    BROWSER_TEST,
    async (t) => {
      const { swarm, proxy, opened, page } = await pageOnSwarm(browser, t, {
        swarm: { count: 6, tags: (index) => (index === 2 ? { role: 'critic' } : undefined) },
        proxy: HEALTH_CHECKED,
      });

      await page.locator('#connection[data-state="live"]').waitFor();
      await cell(page, 5).waitFor();
      assert.equal(await page.locator('#grid .cell').count(), 6);
      await waitText(page, '#total-agents', exact('6'));
      assert.equal(await page.locator('#total-in-flight').textContent(), '0');
      assert.equal(await page.locator('#total-queued').textContent(), '0');
      await waitText(page, '#total-healthy-sub', 'all healthy');
      assert.match(
        (await cell(page, 0).getAttribute('aria-label')) ?? '',
        /^Agent 0, 127\.0\.0\.1:/,
      );
      // Each square carries its index.
      for (const index of [0, 3, 5]) assert.equal(await squareNumber(page, index), `"${index}"`);
      await waitText(page, '#grid-caption', 'numbered from 0');
      // Squares are updated in place, never rebuilt.
      await markNode(page, '#grid .cell[data-index="3"]');

      for (let request = 0; request < 3; request++) {
        assert.equal((await send(proxy.url, '/agent/3/v1/models')).status, 200);
      }
      await waitText(page, '#total-requests', exact('3 in total'));
      // On hover: the index and host at once, the agent's full entry with the next poll.
      await cell(page, 3).hover();
      await page.locator('#details').waitFor();
      await waitText(page, '#details .details-title strong', exact('Agent 3'));
      assert.equal(
        await page.locator('#details .details-host').textContent(),
        `127.0.0.1:${swarm.agents[3]?.port}`,
      );
      await detail(page, 'requests')
        .filter({ hasText: exact('3') })
        .waitFor();
      assert.ok(opened.requestUrls.some((url) => url.includes('&agent=3')));
      assert.equal(await detail(page, 'tags').textContent(), 'none');
      assert.equal(await isMarked(page, '#grid .cell[data-index="3"]'), true);
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

      // A stopped agent: its errors show, its health, and the unhealthy list names it.
      await swarm.agents[5]?.stop();
      assert.equal((await send(proxy.url, '/agent/5/v1/models')).status, 502);
      await page.locator('#grid .cell.errored.down[data-index="5"]').waitFor();
      await waitText(page, '#total-healthy-sub', exact('1 unhealthy'));
      await waitText(page, '#unhealthy-list', 'Agent 5');
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
    },
  );

  test(
    'the unhealthy agents are listed with their last error, always on screen',
    BROWSER_TEST,
    async (t) => {
      const { swarm, proxy, opened, page } = await pageOnSwarm(browser, t, {
        swarm: { count: 5 },
        proxy: HEALTH_CHECKED,
      });
      await waitText(page, '#unhealthy-note', exact('None: all 5 agents are healthy.'));
      assert.equal(await page.locator('#unhealthy-count').textContent(), '0');
      assert.equal(await page.locator('#unhealthy-list li').count(), 0);

      await swarm.agents[1]?.stop();
      await swarm.agents[3]?.stop();
      await proxy.checkHealth();
      await waitText(page, '#unhealthy-count', exact('2'));
      const items = page.locator('#unhealthy-list li');
      assert.equal(await items.count(), 2);
      for (const [position, index] of [1, 3].entries()) {
        const item = items.nth(position);
        assert.equal(await item.locator('.agent-link').textContent(), `Agent ${index}`);
        assert.equal(
          await item.locator('.host').textContent(),
          `127.0.0.1:${swarm.agents[index]?.port}`,
        );
        assert.match((await item.locator('.error-text').textContent()) ?? '', /^health probe: /);
      }
      assert.equal(await page.locator('#unhealthy-note').textContent(), '');
      assert.equal(await page.locator('#unhealthy.warn').count(), 1);

      // The list leads to the square: focus, and the agent's details.
      await items.nth(1).locator('.agent-link').click();
      await page.locator('#grid .cell[data-index="3"]:focus').waitFor();
      await waitText(page, '#details .details-title strong', exact('Agent 3'));
      await detail(page, 'last error')
        .filter({ hasText: /^health probe: / })
        .waitFor();

      // An agent that is back leaves the list.
      await swarm.agents[1]?.start();
      await proxy.checkHealth();
      await waitText(page, '#unhealthy-count', exact('1'));
      assert.equal(await items.count(), 1);
      assert.equal(await items.first().locator('.agent-link').textContent(), 'Agent 3');
      opened.assertClean(proxy.url);
    },
  );

  test(
    'with health checks off the list says so instead of claiming all are healthy',
    BROWSER_TEST,
    async (t) => {
      const { proxy, opened, page } = await pageOnSwarm(browser, t, { swarm: { count: 2 } });
      await waitText(page, '#unhealthy-note', 'Health checks are off (--health-interval 0)');
      assert.equal(await page.locator('#total-healthy-sub').textContent(), 'checks off');
      assert.equal(await page.locator('#grid .cell.unknown').count(), 2);
      opened.assertClean(proxy.url);
    },
  );

  test('links to /status and /metrics, relative to the page', BROWSER_TEST, async (t) => {
    const { proxy, opened, page } = await pageOnSwarm(browser, t);
    const links = page.locator('nav.raw a');
    assert.deepEqual(await links.allTextContents(), ['/status', '/metrics']);
    assert.deepEqual(
      await links.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('href'))),
      ['status', 'metrics'],
    );
    await links.first().click();
    await page.waitForURL(`${proxy.url}/status`);
    assert.equal(JSON.parse((await page.locator('body').textContent()) ?? '').agents, 1);
    await page.goBack();
    await page.locator('nav.raw a[href="metrics"]').click();
    await page.waitForURL(`${proxy.url}/metrics`);
    await waitText(page, 'body', 'aurora_swarm_proxy_');
    opened.assertClean(proxy.url);
  });

  test(
    'a killed proxy greys every card and claims nothing about now; a new one brings the page back',
    BROWSER_TEST,
    async (t) => {
      const swarm = await startMockSwarm({ count: 3 });
      t.after(() => swarm.close());
      const hostfile = writeHostfile(
        t,
        swarm.endpoints.map(({ host, port }) => `${host}\t${port}\n`).join(''),
      );
      const args = ['--hostfile', hostfile, '--host', '127.0.0.1'];
      const first = spawnProxy(t, [...args, '--port', '0']);
      const url = await proxyUrlOf(first);
      const opened = await openPage(browser, t, url);
      const { page } = opened;
      await page.goto(`${url}/${REFRESH}`);
      await page.locator('#connection[data-state="live"]').waitFor();
      await waitText(page, '#total-healthy-sub', exact('all healthy'));
      await waitText(page, '#updated', /proxy up \d+s/);
      await waitText(page, '#unhealthy-note', 'None: all 3 agents are healthy.');
      await page.locator('#total-rate').filter({ hasText: /^\d/ }).waitFor();
      for (const selector of ['.total >> nth=0', '#unhealthy', '#grid-wrap']) {
        assert.equal(await greyed(page, selector), false, selector);
      }

      first.child.kill('SIGKILL');
      await first.exited;
      await page.locator('#connection[data-state="disconnected"]').waitFor();
      await waitText(page, '#connection-text', /disconnected \(proxy unreachable\) .*retrying/);
      const cards = await page.locator('.total').count();
      assert.equal(cards, 6);
      for (let card = 0; card < cards; card++) {
        assert.equal(await greyed(page, `.total >> nth=${card}`), true, `card ${card}`);
      }
      assert.equal(await greyed(page, '#unhealthy'), true);
      assert.equal(await greyed(page, '#grid-wrap'), true);
      assert.equal(await page.locator('#grid .cell').count(), 3, 'the last grid stays on screen');
      assert.match((await page.locator('#total-healthy-sub').textContent()) ?? '', /^as of \d\d:/);
      assert.equal(await page.locator('#total-rate').textContent(), '—');
      const updated = (await page.locator('#updated').textContent()) ?? '';
      assert.match(updated, /^last answer \d\d:\d\d:\d\d · the proxy is not answering now$/);
      assert.match((await page.locator('#unhealthy-note').textContent()) ?? '', /^As of \d\d:/);
      // What the page shows (not the script's source).
      const shown = await page.locator('body > :not(script)').allTextContents();
      assert.doesNotMatch(shown.join('\n'), /all healthy|proxy up/);
      assert.equal(await page.title(), '(disconnected) aurora-swarm');

      const port = new URL(url).port;
      const second = spawnProxy(t, [...args, '--port', port]);
      t.after(() => second.child.kill('SIGKILL'));
      await page.locator('#connection[data-state="live"]').waitFor();
      await waitText(page, '#total-healthy-sub', exact('all healthy'));
      await waitText(page, '#updated', /proxy up/);
      assert.equal(await greyed(page, '.total >> nth=1'), false);
      assert.equal(await greyed(page, '#grid-wrap'), false);
      opened.assertClean(url, { allowFailedLoads: true });
    },
  );

  test(
    'with --token: an explanation, then ?token= gives a cookie for the page and its links only',
    BROWSER_TEST,
    async (t) => {
      const { swarm, proxy, opened, page } = await pageOnSwarm(browser, t, {
        swarm: { count: 4 },
        proxy: { token: TOKEN, logLevel: 'DEBUG' },
        path: false,
      });
      const { context } = opened;

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

      // The page's own script cannot read the cookie, nor reach an agent with it; the
      // page's links open with it.
      const fromPage = await page.evaluate(async () => {
        const browserGlobals = globalThis as unknown as { document: { cookie: string } };
        const agent = await fetch('agent/0/v1/models');
        const status = await fetch('status');
        const metrics = await fetch('metrics');
        return {
          cookie: browserGlobals.document.cookie,
          agent: agent.status,
          status: status.status,
          metrics: metrics.status,
        };
      });
      assert.deepEqual(fromPage, { cookie: '', agent: 401, status: 200, metrics: 200 });
      assert.equal(swarm.agents[0]?.stats.requests, 0);

      // A proxy restarted with another token: the page says so, and keeps trying.
      await proxy.close(0);
      const other = await startTestProxy(t, swarm.endpoints, {
        token: 'another-token',
        port: proxy.port,
      });
      await page.locator('#connection[data-state="unauthorized"]').waitFor();
      await waitText(page, '#connection-text', '/?token=');
      assert.equal(await greyed(page, '#grid-wrap'), true);
      await other.close(0);

      assert.ok(!proxy.logLines.join('').includes(TOKEN));
      assert.ok(
        !opened.requestUrls.some((url) => url.includes(TOKEN) && !url.endsWith(`/?token=${TOKEN}`)),
      );
      opened.assertClean(proxy.url, { allowFailedLoads: true });
    },
  );
});
