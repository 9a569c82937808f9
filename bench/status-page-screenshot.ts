/**
 * Takes docs/images/status-page.png: a 64-agent mock swarm behind the proxy, under
 * uneven load, with two agents stopped and one answering errors, shown by the status
 * page in headless Chromium with one agent's details open. Not part of `npm test`.
 *
 *   npm run build && node dist/bench/status-page-screenshot.js [output.png]
 *
 * Needs Debian's chromium at /usr/bin/chromium (`apt-get install chromium`).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockSwarm } from '../src/mock/mock-swarm.js';
import { startProxy } from '../src/proxy/proxy-server.js';
import { launchChromium } from './lib/chromium.js';

const AGENT_COUNT = 64;
const STOPPED_AGENTS: readonly number[] = [13, 42];
const FAILING_AGENT = 27;
// Concurrent requests kept open on each agent, by index modulo the length.
const CONCURRENCY_PATTERN: readonly number[] = [0, 1, 0, 2, 1, 3, 0, 5, 1, 9, 0, 2];
const WARMUP_POLLS = 90;
const REFRESH_SECONDS = 0.25;
const HOVERED_AGENT = 57;

const here = dirname(fileURLToPath(import.meta.url));
const output = process.argv[2] ?? join(here, '..', '..', 'docs', 'images', 'status-page.png');

const swarm = await startMockSwarm({
  count: AGENT_COUNT,
  behavior: { latencyMs: 400 },
  perAgent: (index) => ({
    latencyMs: 150 + ((index * 97) % 700),
    ...(index === FAILING_AGENT ? { failure: 'status', failureRate: 0.5 } : {}),
  }),
  tags: (index) => ({ node: `aurora-${String(Math.floor(index / 4)).padStart(4, '0')}` }),
});
const proxy = await startProxy(
  { endpoints: swarm.endpoints, host: '127.0.0.1', port: 0, logLevel: 'ERROR' },
  {},
);
for (const index of STOPPED_AGENTS) await swarm.agents[index]?.stop();

let running = true;
async function keepBusy(index: number): Promise<void> {
  while (running) {
    try {
      const response = await fetch(`${proxy.url}/agent/${index}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'mock-model',
          messages: [{ role: 'user', content: 'hello' }],
        }),
      });
      await response.arrayBuffer();
    } catch {
      // The proxy closing at the end.
    }
  }
}
const loops: Promise<void>[] = [];
for (let index = 0; index < AGENT_COUNT; index++) {
  const concurrency = STOPPED_AGENTS.includes(index)
    ? 1
    : (CONCURRENCY_PATTERN[index % CONCURRENCY_PATTERN.length] ?? 0);
  for (let copy = 0; copy < concurrency; copy++) loops.push(keepBusy(index));
}

const browser = await launchChromium();
try {
  const page = await browser.newPage({
    viewport: { width: 1100, height: 600 },
    deviceScaleFactor: 2,
    colorScheme: 'light',
  });
  await page.goto(`${proxy.url}/?refresh=${REFRESH_SECONDS}`);
  await page
    .locator('#grid .cell')
    .nth(AGENT_COUNT - 1)
    .waitFor();
  // Enough polls for the sparkline to have a shape.
  await page.waitForFunction(
    (points) => {
      // Runs in the page (this project compiles without the DOM's types).
      const page = globalThis as unknown as {
        document: { getElementById(id: string): { getAttribute(name: string): string | null } };
      };
      const line = page.document.getElementById('spark-line').getAttribute('points') ?? '';
      return line.split(' ').length >= points;
    },
    WARMUP_POLLS,
    { timeout: 60_000 },
  );
  await page.locator(`#grid .cell[data-index="${HOVERED_AGENT}"]`).hover();
  await page.locator('#details').waitFor();
  mkdirSync(dirname(output), { recursive: true });
  await page.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  running = false;
  await browser.close();
  await proxy.close(0);
  await swarm.close();
  await Promise.allSettled(loops);
}
