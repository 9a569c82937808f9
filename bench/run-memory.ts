/**
 * `aurora-swarm run` memory against the size of the job (issue 16 item 6): peak RSS of the
 * CLI over prompts files of 10k … 1M prompts, for a first run (nothing done yet), a resumed
 * run (half of the results already in the file) and a rerun with everything done (only the
 * prompts file and the results file are read and checked).
 *
 * Method: static nginx agents (bench/lib/static-agents.ts, one worker, CPU 1) answer every
 * prompt at once, so the run is as fast as the client goes and the window is always full. The
 * CLI runs as `node --import report-peak-rss.js dist/src/cli/aurora-swarm.js run …` pinned to
 * CPU 0, a fresh process per run; its getrusage maxRSS at exit is the peak. Prompts files are
 * JSONL with string ids (`{"id":"q-0000001","prompt":"…"}`, ~60 bytes a line).
 *
 * Run alone: `node dist/bench/run-memory.js [--sizes 10000,100000,500000,1000000] [--agents 16]`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { benchScript, hasCommand, packageScript, stopAllChildren } from './lib/child-process.js';
import { log, printTable, scratchDirectory, writeResults } from './lib/results.js';
import {
  STATIC_MODEL,
  type StaticAgents,
  startStaticAgents,
  staticAgentsAvailable,
} from './lib/static-agents.js';
import { ratio, round } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,500000,1000000' },
    agents: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '512' },
    keep: { type: 'boolean', default: false },
  },
});
const SIZES = (values.sizes as string).split(',').map((size) => Math.max(1, Number(size)));
const AGENT_COUNT = Math.min(512, Math.max(1, Number(values.agents)));
const CONCURRENCY = Math.min(4096, Math.max(1, Number(values.concurrency)));
const CLIENT_CPUS = '0';
const AGENT_CPUS = '1';
const TASKSET = hasCommand('taskset');

interface RunMeasure {
  /** Peak RSS of the CLI process, MB. */
  peakRssMb: number;
  elapsedMs: number;
  exitCode: number | null;
  /** Result lines in the file afterwards. */
  resultLines: number;
  /** Distinct ids among them. */
  distinctIds: number;
}

async function writePromptFile(path: string, count: number): Promise<void> {
  const stream = createWriteStream(path);
  for (let index = 1; index <= count; index++) {
    const line = `{"id":"q-${String(index).padStart(7, '0')}","prompt":"Question ${index}: what does the lacZ gene encode?"}\n`;
    if (!stream.write(line)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

/** Keep the first `keep` lines of a results file (a run stopped half way). */
async function truncateResults(path: string, keep: number): Promise<void> {
  const kept: string[] = [];
  const lines = createInterface({ input: createReadStream(path, 'utf8') });
  for await (const line of lines) {
    if (kept.length >= keep) break;
    kept.push(line);
  }
  lines.close();
  writeFileSync(path, kept.length > 0 ? `${kept.join('\n')}\n` : '');
}

async function countResults(path: string): Promise<{ lines: number; distinct: number }> {
  let lines = 0;
  const ids = new Set<string>();
  const reader = createInterface({ input: createReadStream(path, 'utf8') });
  for await (const line of reader) {
    if (line === '') continue;
    lines++;
    ids.add(String((JSON.parse(line) as { id: unknown }).id));
  }
  return { lines, distinct: ids.size };
}

async function runCli(hostfile: string, prompts: string, out: string): Promise<RunMeasure> {
  const node = [
    process.execPath,
    '--import',
    benchScript('lib/report-peak-rss.js'),
    packageScript('cli/aurora-swarm.js'),
    'run',
    '--hostfile',
    hostfile,
    '--prompts',
    prompts,
    '--out',
    out,
    '--model',
    STATIC_MODEL,
    '--max-tokens',
    '8',
    '--concurrency',
    String(CONCURRENCY),
    '--progress-interval',
    '3600',
  ];
  const [command, ...args] = TASKSET ? ['taskset', '-c', CLIENT_CPUS, ...node] : node;
  const startedAt = performance.now();
  const child = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let peakKb = Number.NaN;
  const tail: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    const match = /^PEAK RSS (\d+)$/.exec(line);
    if (match) peakKb = Number(match[1]);
    else tail.push(line);
  });
  child.stdout.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), 900_000);
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  const elapsedMs = performance.now() - startedAt;
  if (exitCode !== 0) throw new Error(`run exited ${exitCode}: ${tail.slice(-5).join('\n')}`);
  const counted = await countResults(out);
  return {
    peakRssMb: round(peakKb / 1024, 1),
    elapsedMs: Math.round(elapsedMs),
    exitCode,
    resultLines: counted.lines,
    distinctIds: counted.distinct,
  };
}

/** Run the benchmark; returns the results object (also written to bench/results). */
export async function runRunMemory(): Promise<Record<string, unknown>> {
  if (!staticAgentsAvailable()) {
    console.log('run-memory: nginx is not installed (static agents) — SKIPPED');
    return { skipped: 'nginx not installed' };
  }
  const directory = scratchDirectory('run-memory');
  const loadBefore = os.loadavg();
  let agents: StaticAgents | undefined;
  const rows: Record<string, unknown>[] = [];
  try {
    agents = await startStaticAgents(join(directory, 'agents'), AGENT_COUNT, AGENT_CPUS);
    const hostfile = join(directory, 'hostfile.txt');
    writeFileSync(hostfile, agents.hostfileText);
    for (const size of SIZES) {
      const prompts = join(directory, `prompts-${size}.jsonl`);
      const out = join(directory, `results-${size}.jsonl`);
      await writePromptFile(prompts, size);
      const fresh = await runCli(hostfile, prompts, out);
      const rerun = await runCli(hostfile, prompts, out);
      await truncateResults(out, Math.floor(size / 2));
      const resumed = await runCli(hostfile, prompts, out);
      const complete = [fresh, rerun, resumed].every(
        (run) => run.resultLines === size && run.distinctIds === size,
      );
      if (!complete) throw new Error(`run-memory: results of ${size} prompts are not exact`);
      rows.push({
        prompts: size,
        promptsFileMb: round(statSync(prompts).size / 2 ** 20, 1),
        resultsFileMb: round(statSync(out).size / 2 ** 20, 1),
        fresh,
        resumedHalf: resumed,
        rerunAllDone: rerun,
        promptsPerSecond: Math.round((size * 1000) / fresh.elapsedMs),
      });
      log(
        `${size} prompts: peak RSS ${fresh.peakRssMb} MB (first run, ${Math.round((size * 1000) / fresh.elapsedMs)}/s), ${resumed.peakRssMb} MB (half done), ${rerun.peakRssMb} MB (all done)`,
      );
      if (!values.keep) rmSync(out, { force: true });
      rmSync(prompts, { force: true });
    }
  } finally {
    await agents?.stop();
    await stopAllChildren();
    if (!values.keep) rmSync(directory, { recursive: true, force: true });
  }
  const peak = (row: Record<string, unknown>) =>
    Math.max(
      ...(['fresh', 'resumedHalf', 'rerunAllDone'] as const).map(
        (key) => (row[key] as RunMeasure).peakRssMb,
      ),
    );
  const bySize = new Map(rows.map((row) => [row.prompts as number, peak(row)]));
  const smallest = bySize.get(10_000);
  const at500k = bySize.get(500_000);
  const at1m = bySize.get(1_000_000);
  const flatRatio = smallest !== undefined && at500k !== undefined ? ratio(at500k, smallest) : null;
  const results = {
    method: {
      agents: `${AGENT_COUNT} static nginx agents (one worker) on CPU ${AGENT_CPUS}`,
      cli: `aurora-swarm run --model ${STATIC_MODEL} --max-tokens 8 --concurrency ${CONCURRENCY}, a fresh process per run pinned to CPU ${CLIENT_CPUS}; peak RSS = getrusage maxRSS at exit`,
      prompts: 'JSONL, string ids q-0000001…, ~80 bytes a line',
      runs: 'per size: first run (empty results file), rerun (all done), resumed (results file cut to the first half)',
      loadAverage: { before: loadBefore, after: os.loadavg() },
    },
    sizes: rows,
    peakRssMbBySize: Object.fromEntries(bySize),
    targets: {
      flat: 'peak RSS(500,000) <= 1.3 x peak RSS(10,000) (worst of the three runs of each size)',
      flatRatio,
      flatMet: flatRatio === null ? null : flatRatio <= 1.3,
      million: 'peak RSS(1,000,000) < 200 MB',
      millionMb: at1m ?? null,
      millionMet: at1m === undefined ? null : at1m < 200,
    },
  };
  const path = writeResults('run-memory', results);
  console.log('\nrun-memory: peak RSS of aurora-swarm run (MB)');
  printTable([
    ['prompts', 'first run', 'half done', 'all done', 'prompts/s'],
    ...rows.map((row) => [
      row.prompts as number,
      (row.fresh as RunMeasure).peakRssMb,
      (row.resumedHalf as RunMeasure).peakRssMb,
      (row.rerunAllDone as RunMeasure).peakRssMb,
      row.promptsPerSecond as number,
    ]),
  ]);
  console.log(
    `500k vs 10k: ${flatRatio ?? '-'} (target <= 1.3: ${results.targets.flatMet}); 1M: ${at1m ?? '-'} MB (target < 200: ${results.targets.millionMet})`,
  );
  console.log(`results: ${path}`);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runRunMemory();
}
