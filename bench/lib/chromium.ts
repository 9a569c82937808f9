/**
 * Debian's headless Chromium (`apt-get install chromium`) driven by playwright-core:
 * the path and flags every browser run of this repository uses — the status page's
 * tests (test/proxy/status-page/browser-harness.ts), its screenshot and its benchmark.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { sampleProcess } from './proc-stats.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet headless Chromium in a container. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether {@link CHROMIUM_PATH} exists. */
export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Launch {@link CHROMIUM_PATH} with {@link CHROMIUM_ARGS}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}

function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8');
      children = children.concat(text.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/**
 * CPU time (user + system, ms) used so far by the Chromium processes this process
 * started, summed by their `--type` (`renderer`, `gpu-process`, `browser` for the
 * main one...). CPU time, unlike the page's task durations, does not grow when other
 * processes take the cores: the figure to trust on a shared machine.
 */
export function chromiumCpuMs(): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const pid of descendants(process.pid)) {
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!commandLine.includes('chrom')) continue;
    const type = /--type=([\w-]+)/.exec(commandLine)?.[1] ?? 'browser';
    try {
      totals[type] = (totals[type] ?? 0) + sampleProcess(pid).cpuMs;
    } catch {
      // Gone meanwhile.
    }
  }
  return totals;
}
