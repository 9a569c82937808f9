/**
 * The status page at 8,000 agents in headless Chromium: every square, the ruler, polls
 * that carry only what changed, and hostfile reloads while the page is open. No
 * timing is asserted here (bench/status-surfaces.ts measures it); what is checked is
 * that the page renders all of it, stays responsive to hover, and keeps up.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Response } from 'playwright-core';
import type { AgentEndpoint } from '../../../src/hostfile/agent-endpoint.js';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import type { CompactStatusJson } from '../../../src/proxy/status-page/compact-status.js';
import { send, startTestProxy } from '../proxy-test-helpers.js';
import {
  BROWSER_TEST,
  cell,
  describeInBrowser,
  detail,
  exact,
  isMarked,
  markNode,
  openPage,
  type PageElement,
  type PageGlobals,
  waitText,
} from './browser-harness.js';

const AGENT_COUNT = 8000;

/** What one poll of the page got. */
interface Poll {
  readonly url: string;
  readonly bytes: number;
  readonly body: CompactStatusJson;
}

describeInBrowser('status page at 8,000 agents in headless Chromium', (browser) => {
  test(
    'every agent gets a square on a ruled grid; polls carry only what changed; reloads follow',
    BROWSER_TEST,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      // Real agents behind every index: the two mock agents, alternately.
      const endpoints = (count: number): AgentEndpoint[] =>
        Array.from({ length: count }, (_, index) => swarm.endpoints[index % 2] as AgentEndpoint);
      const proxy = await startTestProxy(t, endpoints(AGENT_COUNT));
      const opened = await openPage(browser, t, proxy.url);
      const { page } = opened;
      const polls: Poll[] = [];
      page.on('response', (response: Response) => {
        if (!response.url().includes('/status?')) return;
        // A body still on its way when the test ends is not counted.
        response.body().then(
          (body) => {
            polls.push({
              url: response.url(),
              bytes: body.length,
              body: JSON.parse(body.toString('utf8')) as CompactStatusJson,
            });
          },
          () => undefined,
        );
      });
      await page.goto(`${proxy.url}/?refresh=0.2`);
      await cell(page, AGENT_COUNT - 1).waitFor();
      assert.equal(await page.locator('#grid .cell').count(), AGENT_COUNT);
      await waitText(page, '#total-agents', exact('8,000'));
      await markNode(page, '#grid .cell[data-index="0"]');

      // The ruler: a round number of columns, each row labelled with its first index.
      const layout = await page.evaluate(() => {
        const document = (globalThis as unknown as PageGlobals).document;
        const square = (index: number) =>
          (
            document.querySelector(`#grid .cell[data-index="${index}"]`) as PageElement
          ).getBoundingClientRect();
        const columns = Number(
          (document.getElementById('grid-wrap') as PageElement).style.getPropertyValue('--columns'),
        );
        const labels = Array.from(document.querySelectorAll('#ruler span'), (span) => ({
          text: span.textContent,
          top: span.getBoundingClientRect().top,
        }));
        return {
          columns,
          labels,
          firstTop: square(0).top,
          firstLeft: square(0).left,
          rowTwo: { top: square(columns).top, left: square(columns).left },
          lastOfRowOne: square(columns - 1).top,
        };
      });
      assert.ok(layout.columns >= 20 && layout.columns % 10 === 0, `${layout.columns} columns`);
      assert.equal(layout.labels.length, Math.ceil(AGENT_COUNT / layout.columns));
      assert.equal(layout.lastOfRowOne, layout.firstTop, 'square columns-1 ends the first row');
      assert.equal(layout.rowTwo.left, layout.firstLeft, 'square `columns` starts the second row');
      assert.ok(layout.rowTwo.top > layout.firstTop);
      assert.equal(layout.labels[0]?.text, '0');
      const labelled = layout.labels.filter((label) => label.text !== '');
      assert.ok(labelled.length >= layout.labels.length / 2, 'at least every other row labelled');
      for (const [row, label] of layout.labels.entries()) {
        if (label.text !== '') assert.equal(label.text, String(row * layout.columns));
      }
      await waitText(page, '#grid-caption', `${layout.columns} a row`);

      // After the first answer, polls are small: only rows that changed (here, at most
      // the one agent a request went to, if a poll caught it in flight).
      await waitText(page, '#total-requests', exact('0 in total'));
      assert.equal((await send(proxy.url, `/agent/${AGENT_COUNT - 1}/v1/models`)).status, 200);
      await waitText(page, '#total-requests', exact('1 in total'));
      const first = polls[0];
      assert.ok(first?.body.full && first.body.rows.length === AGENT_COUNT);
      assert.equal(first.body.hosts?.length, AGENT_COUNT);
      const later = polls.slice(1);
      assert.ok(later.length >= 1);
      for (const poll of later) {
        assert.equal(poll.body.full, false, poll.url);
        assert.ok(
          poll.body.rows.every((row) => row[0] === AGENT_COUNT - 1),
          JSON.stringify(poll.body.rows),
        );
        assert.ok(poll.bytes < 1000, `${poll.bytes} bytes in ${poll.url}`);
      }

      // Hover the last square: its full entry comes with the next poll.
      await cell(page, AGENT_COUNT - 1).hover();
      await waitText(page, '#details', `Agent ${AGENT_COUNT - 1}`);
      await detail(page, 'requests')
        .filter({ hasText: exact('1') })
        .waitFor();
      assert.equal(await isMarked(page, '#grid .cell[data-index="0"]'), true);
      await page.mouse.move(0, 0);

      // A reload while the page is open: the grid follows, the next answer is full.
      await proxy.reload(endpoints(2000));
      await waitText(page, '#total-agents', exact('2,000'));
      await page.locator('#grid .cell[data-index="1999"]').waitFor();
      assert.equal(await page.locator('#grid .cell').count(), 2000);
      assert.equal(await page.locator('#grid-wrap.size-s').count(), 1);
      await proxy.reload(endpoints(AGENT_COUNT));
      await waitText(page, '#total-agents', exact('8,000'));
      await cell(page, AGENT_COUNT - 1).waitFor();
      assert.equal(await page.locator('#grid .cell').count(), AGENT_COUNT);
      const reloads = polls.filter((poll) => poll.body.full);
      assert.ok(reloads.length >= 3, `${reloads.length} full answers`);
      opened.assertClean(proxy.url);
    },
  );
});
