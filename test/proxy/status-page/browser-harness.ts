/**
 * What the headless-Chromium tests of the status page share: Debian's chromium driven
 * by playwright-core (bench/lib/chromium.ts, which the screenshot and the benchmark
 * use too), a page per test in its own context with every request and page
 * error recorded, and small locator helpers. Every wait is Playwright's (a locator or
 * a predicate polled in the page), never a sleep.
 *
 * Without /usr/bin/chromium each test is skipped with a message (so the summary
 * counts them as skipped), except under CI (`CI` set and not `false`/`0`), where
 * each test fails: .ci/run installs chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, type TestContext } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumInstalled, launchChromium } from '../../../bench/lib/chromium.js';
import { type MockSwarmOptions, startMockSwarm } from '../../../src/mock/mock-swarm.js';
import type { ProxyOptions } from '../../../src/proxy/proxy-options.js';
import { startTestProxy } from '../proxy-test-helpers.js';

const underCi = !['', '0', 'false', undefined].includes(process.env.CI);
const chromiumMissing = !chromiumInstalled();

/** The `skip` option of every browser test: a reason off CI without chromium, else false. */
export const BROWSER_SKIP: string | false =
  chromiumMissing && !underCi
    ? `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium) to run the status page tests`
    : false;

// Each browser test's bound.
const BROWSER_TEST_TIMEOUT_MS = 60_000;
// Playwright's own bound on each wait: a safety net that fails sooner than the test timeout.
const WAIT_TIMEOUT_MS = 20_000;

/**
 * The browser of one suite: launched in `before`, closed in `after`. Under CI
 * without chromium, every test that asks for it fails with the reason (a failure
 * the summary counts, not a hook error that cancels the tests).
 */
export class SuiteBrowser {
  #browser: Browser | undefined;
  #error: unknown;

  /** Launch chromium, unless the tests are skipped. */
  async launch(): Promise<void> {
    if (BROWSER_SKIP !== false) return;
    try {
      if (chromiumMissing) {
        throw new Error(
          `${CHROMIUM_PATH} is missing but CI is set: CI must install Debian's chromium (see .ci/run)`,
        );
      }
      this.#browser = await launchChromium();
    } catch (error) {
      this.#error = error;
    }
  }

  /** The browser; throws why there is none. */
  get(): Browser {
    if (this.#error !== undefined) throw this.#error;
    assert.ok(this.#browser, 'the browser was launched');
    return this.#browser;
  }

  async close(): Promise<void> {
    await this.#browser?.close();
  }
}

/** The options of every browser test: its skip (see {@link BROWSER_SKIP}) and timeout. */
export const BROWSER_TEST = { skip: BROWSER_SKIP, timeout: BROWSER_TEST_TIMEOUT_MS } as const;

/** A suite whose tests share one browser, launched before them and closed after. */
export function describeInBrowser(name: string, body: (browser: SuiteBrowser) => void): void {
  describe(name, () => {
    const browser = new SuiteBrowser();
    before(() => browser.launch());
    after(() => browser.close());
    body(browser);
  });
}

/** A page in a fresh browser context, with every request and every page error recorded. */
export interface OpenedPage {
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

/** Open a page in its own context (closed after the test); requests elsewhere than `origin` are blocked. */
export async function openPage(
  browser: SuiteBrowser,
  t: { after(fn: () => unknown): void },
  origin: string,
  viewport = { width: 1200, height: 800 },
): Promise<OpenedPage> {
  const context = await browser.get().newContext({ viewport });
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

/** An element as the tests' in-page functions read it. */
export interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { readonly top: number; readonly left: number };
  readonly style: { getPropertyValue(name: string): string };
}

/**
 * The little of the browser's globals that functions run in the page use (this
 * project compiles without the DOM's types): `globalThis as unknown as PageGlobals`.
 */
export interface PageGlobals {
  readonly document: {
    getElementById(id: string): PageElement | null;
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement> & ArrayLike<PageElement>;
  };
  getComputedStyle(
    element: unknown,
    pseudoElement?: string,
  ): { readonly filter: string; readonly content: string };
}

/** Agent `index`'s square. */
export const cell = (page: Page, index: number) =>
  page.locator(`#grid .cell[data-index="${index}"]`);
/** The value of row `name` in the details on screen. */
export const detail = (page: Page, name: string) =>
  page.locator(`#details dt:text-is("${name}") + dd`);
/** Wait until an element matching `selector` has `text`. */
export const waitText = (page: Page, selector: string, text: string | RegExp) =>
  page.locator(selector, { hasText: text }).waitFor();
/** A pattern matching exactly `text` (no regular-expression characters in it). */
export const exact = (text: string) => new RegExp(`^${text}$`);

/** Mark a node so a later check can tell it was updated in place, not rebuilt. */
export async function markNode(page: Page, selector: string): Promise<void> {
  await page.locator(selector).evaluate((node) => {
    (node as unknown as { marked: boolean }).marked = true;
  });
}

/** Whether the node marked by {@link markNode} is still the one on the page. */
export async function isMarked(page: Page, selector: string): Promise<boolean> {
  return page
    .locator(selector)
    .evaluate((node) => (node as unknown as { marked?: boolean }).marked === true);
}

/**
 * Simulated agents, the proxy in-process in front of them and a page open on it at
 * `path` (`/?refresh=0.1` unless given; `false`: not navigated), all closed after the test.
 */
export async function pageOnSwarm(
  browser: SuiteBrowser,
  t: TestContext,
  options: { swarm?: MockSwarmOptions; proxy?: ProxyOptions; path?: string | false } = {},
) {
  const swarm = await startMockSwarm(options.swarm ?? { count: 1 });
  t.after(() => swarm.close());
  const proxy = await startTestProxy(t, swarm.endpoints, options.proxy);
  const opened = await openPage(browser, t, proxy.url);
  if (options.path !== false) {
    await opened.page.goto(`${proxy.url}${options.path ?? '/?refresh=0.1'}`);
  }
  return { swarm, proxy, opened, page: opened.page };
}
