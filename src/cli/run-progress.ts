/**
 * Progress of `aurora-swarm run` on standard error: a live bar (cli-progress) on a
 * terminal, plain lines every few seconds otherwise (logs, CI, `nohup`).
 */
import cliProgress from 'cli-progress';
import type { RunPlan, RunProgress } from '../run/run-prompt-file.js';
import type { CliIo } from './cli-io.js';
import type { CliStyle } from './cli-style.js';

/** Seconds between two plain progress lines when standard error is not a terminal. */
export const DEFAULT_PROGRESS_INTERVAL_SECONDS = 5;

/** `1h02m`, `3m05s`, `12s`, or `?` while unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const rounded = Math.round(seconds);
  const hours = Math.floor(rounded / 3600);
  const minutes = Math.floor((rounded % 3600) / 60);
  const rest = rounded % 60;
  const pad = (value: number) => String(value).padStart(2, '0');
  if (hours > 0) return `${hours}h${pad(minutes)}m`;
  if (minutes > 0) return `${minutes}m${pad(rest)}s`;
  return `${rest}s`;
}

function rateOf(progress: RunProgress): number {
  return progress.elapsedMs > 0 ? (progress.done * 1000) / progress.elapsedMs : 0;
}

function etaSeconds(progress: RunProgress): number {
  const rate = rateOf(progress);
  return rate > 0 ? (progress.toRun - progress.done) / rate : Number.NaN;
}

/** A progress display: `update` after each result, `stop` before the summary. */
export interface RunProgressDisplay {
  start(plan: RunPlan): void;
  update(progress: RunProgress): void;
  stop(): void;
}

/** The plain line: `1200/50000 done (1180 ok, 20 failed), 85.3/s, ETA 9m32s`. */
function formatProgressLine(progress: RunProgress): string {
  return `${progress.done}/${progress.toRun} done (${progress.succeeded} ok, ${progress.failed} failed), ${rateOf(progress).toFixed(1)}/s, ETA ${formatDuration(etaSeconds(progress))}`;
}

/** The bar on a terminal, the plain lines elsewhere. */
export function createRunProgressDisplay(
  io: CliIo,
  style: CliStyle,
  intervalSeconds: number,
): RunProgressDisplay {
  return io.stderrIsTTY ? terminalDisplay(io, style) : plainDisplay(io, intervalSeconds);
}

function plainDisplay(io: CliIo, intervalSeconds: number): RunProgressDisplay {
  let latest: RunProgress | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    start(plan) {
      if (plan.toRun === 0) return;
      timer = setInterval(() => {
        if (latest) io.stderr(`aurora-swarm run: ${formatProgressLine(latest)}\n`);
      }, intervalSeconds * 1000);
      timer.unref();
    },
    update(progress) {
      latest = progress;
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (latest) io.stderr(`aurora-swarm run: ${formatProgressLine(latest)}\n`);
    },
  };
}

function terminalDisplay(io: CliIo, style: CliStyle): RunProgressDisplay {
  // cli-progress writes cursor movements through `write`; this adapter sends them to io.
  const stream = {
    isTTY: true,
    get columns() {
      return io.stderrColumns ?? 80;
    },
    write(text: string) {
      io.stderr(text);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `{bar} {value}/{total} | {ok} ok | {failed} failed | {rate}/s | ETA {remaining}`,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      barsize: 30,
      hideCursor: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const payload = (progress: RunProgress) => ({
    ok: style.green(String(progress.succeeded)),
    failed: progress.failed > 0 ? style.red(String(progress.failed)) : '0',
    rate: rateOf(progress).toFixed(1),
    remaining: formatDuration(etaSeconds(progress)),
  });
  return {
    start(plan) {
      if (plan.toRun === 0) return;
      started = true;
      bar.start(plan.toRun, 0, {
        ...payload({ done: 0, succeeded: 0, failed: 0, toRun: plan.toRun, elapsedMs: 0 }),
      });
    },
    update(progress) {
      if (started) bar.update(progress.done, payload(progress));
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
