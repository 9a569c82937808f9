/**
 * The Host and Origin checks against a real browser: Debian's headless Chromium
 * (playwright-core). A page of another site tries to start a generation through the
 * proxy and to read `/status`; a DNS-rebinding name (Chromium's host resolver maps
 * `attacker.test` to 127.0.0.1) opens the proxy under its own name; the status page
 * opened as the SSH tunnel shows it (`http://localhost:PORT`) still reads `/status`.
 *
 * Without /usr/bin/chromium the suite is skipped with a message, except under CI
 * (`CI` set), where that is a failure, as in test/proxy/status-page/status-page.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, type TestContext, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import type { ProxyOptions } from '../../../src/proxy/proxy-options.js';
import { startTestProxy } from '../proxy-test-helpers.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
const chromiumMissing = !existsSync(CHROMIUM_PATH);
const skip =
  chromiumMissing && process.env.CI === undefined
    ? `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium) to run the browser tests`
    : false;
const TEST_TIMEOUT_MS = 60_000;
const WAIT_TIMEOUT_MS = 20_000;

/** A page of "another site": `localhost:PORT` is another site than the proxy's `127.0.0.1`. */
async function startAttackerSite(t: TestContext): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>attacker</title><p>hello</p>');
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://localhost:${(server.address() as AddressInfo).port}`;
}

describe('web pages against the proxy, in headless Chromium', { skip }, () => {
  let browser: Browser | undefined;

  before(async () => {
    if (chromiumMissing) {
      throw new Error(
        `${CHROMIUM_PATH} is missing but CI is set: CI must install Debian's chromium`,
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // The rebinding attack's end state: the attacker's name resolves to loopback.
        '--host-resolver-rules=MAP attacker.test 127.0.0.1',
      ],
    });
  });
  after(() => browser?.close());

  async function setUp(t: TestContext, options: ProxyOptions = {}) {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, options);
    const context = await (browser as Browser).newContext();
    t.after(() => context.close());
    context.setDefaultTimeout(WAIT_TIMEOUT_MS);
    const page = await context.newPage();
    return { swarm, proxy, page };
  }

  test('a page of another site can neither start a generation nor read /status', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const { swarm, proxy, page } = await setUp(t);
    const attacker = await startAttackerSite(t);
    await page.goto(`${attacker}/`);
    const outcome = await page.evaluate(async (target) => {
      const body = JSON.stringify({ prompt: 'spend the GPU hours', max_tokens: 4 });
      // The "simple" request a page may send without a preflight.
      await fetch(`${target}/agent/0/v1/completions`, {
        method: 'POST',
        mode: 'no-cors',
        headers: { 'content-type': 'text/plain' },
        body,
      });
      let read = 'not read';
      try {
        const response = await fetch(`${target}/status`);
        read = await response.text();
      } catch (error) {
        read = `blocked: ${(error as Error).message}`;
      }
      let json = 'not sent';
      try {
        const response = await fetch(`${target}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        json = String(response.status);
      } catch (error) {
        json = `blocked: ${(error as Error).message}`;
      }
      return { read, json };
    }, proxy.url);
    assert.match(outcome.read, /^blocked: /);
    assert.match(outcome.json, /^blocked: /);
    assert.equal(swarm.agents[0]?.stats.requests, 0, 'no request reached the agent');
    assert.ok(
      proxy.logLines.some((line) => line.includes(`"${attacker}" refused (cross-origin)`)),
      proxy.logLines.join(''),
    );
  });

  test("DNS rebinding: the proxy under the attacker's name answers 403, its /status unreadable", {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const { swarm, proxy, page } = await setUp(t);
    const rebound = `http://attacker.test:${proxy.port}`;
    const landing = await page.goto(`${rebound}/`);
    assert.equal(landing?.status(), 403);
    const status = await page.evaluate(async () => {
      const response = await fetch('/status');
      return { code: response.status, text: await response.text() };
    });
    assert.equal(status.code, 403);
    assert.match(status.text, /not a name of this proxy/);
    assert.doesNotMatch(status.text, /endpoints/);
    assert.equal(swarm.agents[0]?.stats.requests, 0);
  });

  test('the status page through the tunnel (localhost:PORT) reads /status; a listed origin may too', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const attacker = await startAttackerSite(t);
    const { proxy, page } = await setUp(t, { allowOrigins: [attacker] });
    const local = `http://localhost:${proxy.port}`;
    const statusRead = page.waitForResponse(
      (response) => response.url().startsWith(`${local}/status`) && response.status() === 200,
    );
    const landing = await page.goto(`${local}/?refresh=0.1`);
    assert.equal(landing?.status(), 200);
    await statusRead;

    await page.goto(`${attacker}/`);
    const listed = await page.evaluate(async (target) => {
      const response = await fetch(`${target}/status`);
      return (await response.json()) as { agents?: number };
    }, proxy.url);
    assert.equal(listed.agents, 1);
  });
});
