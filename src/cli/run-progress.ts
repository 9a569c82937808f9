/**
 * Progress of `aurora-swarm run` on standard error: a live bar (cli-progress) on a
 * terminal, plain lines every few seconds otherwise (logs, CI, `nohup`).
 *
 * The bar leaves the terminal as it found it, whatever ends the process: it never hides the
 * cursor nor turns line wrapping off (cli-progress's `hideCursor`/`linewrap: false` write
 * escape codes that only its own `stop()` undoes, so a `kill -9` left the terminal broken);
 * instead each line is built to fit the terminal's width, measured on every redraw.
 */
import cliProgress from 'cli-progress';
import { MAX_TIMER_DELAY_MS } from '../internal/timer-limit.js';
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

/**
 * Seconds left, or NaN while the rate is not known yet. Calls finish in waves (a window of
 * calls started together), so the rate is only trusted once half a window has finished:
 * before that one early answer would promise minutes for a job of days, or the reverse.
 */
export function etaSeconds(progress: RunProgress, window: number): number {
  const remaining = progress.toRun - progress.done;
  if (remaining <= 0) return 0;
  const enough = Math.min(progress.toRun, Math.max(10, Math.ceil(window / 2)));
  const rate = rateOf(progress);
  return progress.done >= enough && rate > 0 ? remaining / rate : Number.NaN;
}

/** A progress display: `update` after each result, `log` for notices, `stop` before the summary. */
export interface RunProgressDisplay {
  start(plan: RunPlan): void;
  update(progress: RunProgress): void;
  /** Print a line (a notice) without breaking the bar. */
  log(line: string): void;
  /** A word shown after the counts until cleared with `undefined` (e.g. `waiting for the proxy`). */
  setStatus(status: string | undefined): void;
  stop(): void;
}

/** What the display needs to know besides the counts. */
export interface RunProgressSettings {
  /** Seconds between plain lines when standard error is not a terminal. */
  intervalSeconds: number;
  /** Calls in flight at once (for the ETA). */
  window: number;
}

/** `done` of the whole file and the earlier run's share: `384/2000 (256 from an earlier run)`. */
function overall(plan: RunPlan | undefined, progress: RunProgress): string {
  const earlier = plan?.alreadyDone ?? 0;
  const total = plan?.total ?? progress.toRun;
  return `${earlier + progress.done}/${total}`;
}

/**
 * The plain line: `1200/50000 done (1180 ok, 20 failed), 85.3/s, ETA 9m32s`; on a resume the
 * counts are the file's (`… done (…, 256 from an earlier run)`).
 */
export function formatProgressLine(
  progress: RunProgress,
  plan?: RunPlan,
  window = Number.POSITIVE_INFINITY,
): string {
  const earlier = plan?.alreadyDone ? `, ${plan.alreadyDone} from an earlier run` : '';
  return `${overall(plan, progress)} done (${progress.succeeded} ok, ${progress.failed} failed${earlier}), ${rateOf(progress).toFixed(1)}/s, ETA ${formatDuration(etaSeconds(progress, window))}`;
}

/** The bar on a terminal, the plain lines elsewhere. */
export function createRunProgressDisplay(
  io: CliIo,
  style: CliStyle,
  settings: RunProgressSettings,
): RunProgressDisplay {
  return io.stderrIsTTY ? terminalDisplay(io, style, settings) : plainDisplay(io, settings);
}

/**
 * The time since the first prompt was sent, read when a line is drawn: during an outage no
 * result arrives, and a rate frozen at the last result would promise an ETA that is not true.
 */
function elapsedClock() {
  let startedAt: number | undefined;
  return {
    start: () => {
      startedAt = performance.now();
    },
    now: (progress: RunProgress): RunProgress =>
      startedAt === undefined
        ? progress
        : { ...progress, elapsedMs: Math.max(progress.elapsedMs, performance.now() - startedAt) },
  };
}

function plainDisplay(io: CliIo, settings: RunProgressSettings): RunProgressDisplay {
  let latest: RunProgress | undefined;
  let plan: RunPlan | undefined;
  let status: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const clock = elapsedClock();
  const line = () =>
    latest
      ? `aurora-swarm run: ${formatProgressLine(clock.now(latest), plan, settings.window)}${status ? `; ${status}` : ''}\n`
      : '';
  return {
    start(started) {
      plan = started;
      clock.start();
      if (started.toRun === 0) return;
      const everyMs = Math.min(settings.intervalSeconds * 1000, MAX_TIMER_DELAY_MS);
      timer = setInterval(() => io.stderr(line()), everyMs);
      timer.unref();
    },
    update(progress) {
      latest = progress;
    },
    log(text) {
      io.stderr(`${text}\n`);
    },
    setStatus(next) {
      status = next;
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      io.stderr(line());
      latest = undefined;
    },
  };
}

const MIN_BAR = 10;
const MAX_BAR = 30;

/**
 * One bar line that fits `columns`: the bar shrinks first, then colour goes (its codes count
 * against the width, as cli-progress cuts the raw string), then the status and the rate
 * (the ETA stays), then the bar itself.
 */
export function fitBarLine(
  parts: { value: string; counts: string[]; plainCounts: string[]; tail: string[] },
  progress: number,
  columns: number,
): string {
  const width = Math.max(20, columns - 1);
  const eta = parts.tail.slice(-1);
  const candidates: Array<[string[], string[]]> = [
    [parts.counts, parts.tail],
    [parts.plainCounts, parts.tail],
    [parts.plainCounts, eta],
  ];
  for (const [counts, tail] of candidates) {
    const text = [parts.value, ...counts, ...tail].join(' | ');
    const barSize = Math.min(MAX_BAR, width - text.length - 1);
    if (barSize >= MIN_BAR) {
      const bar = cliProgress.Format.BarFormat(progress, {
        barsize: barSize,
        barCompleteString: BAR_COMPLETE.repeat(barSize),
        barIncompleteString: BAR_INCOMPLETE.repeat(barSize),
        barGlue: '',
      });
      return `${bar} ${text}`;
    }
  }
  return [parts.value, ...parts.plainCounts, ...eta].join(' | ').slice(0, width);
}

const BAR_COMPLETE = '\u2588';
const BAR_INCOMPLETE = '\u2591';

function terminalDisplay(
  io: CliIo,
  style: CliStyle,
  settings: RunProgressSettings,
): RunProgressDisplay {
  // cli-progress writes cursor movements through `write`; this adapter sends them to io.
  const stream = {
    isTTY: true,
    get columns() {
      return io.stderrColumns || 80;
    },
    write(text: string) {
      io.stderr(text);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  let plan: RunPlan | undefined;
  let latest: RunProgress = { done: 0, succeeded: 0, failed: 0, toRun: 0, elapsedMs: 0 };
  let status: string | undefined;
  const clock = elapsedClock();
  const bar = new cliProgress.SingleBar({
    stream,
    format: (_options, params) => {
      const current = clock.now(latest);
      const earlier = plan?.alreadyDone ? ` (${plan.alreadyDone} from an earlier run)` : '';
      const ok = `${latest.succeeded} ok`;
      const failed = `${latest.failed} failed`;
      return fitBarLine(
        {
          value: `${overall(plan, latest)}${earlier}`,
          counts: [
            `${style.green(String(latest.succeeded))} ok`,
            latest.failed > 0 ? `${style.red(String(latest.failed))} failed` : failed,
          ],
          plainCounts: [ok, failed],
          tail: [
            ...(status ? [status] : []),
            `${rateOf(current).toFixed(1)}/s`,
            `ETA ${formatDuration(etaSeconds(current, settings.window))}`,
          ],
        },
        params.progress,
        io.stderrColumns || 80,
      );
    },
    hideCursor: false,
    linewrap: true,
    gracefulExit: false,
    fps: 5,
  });
  let started = false;
  const redraw = () => {
    if (!started) return;
    bar.update((plan?.alreadyDone ?? 0) + latest.done);
    bar.render();
  };
  return {
    start(startedPlan) {
      plan = startedPlan;
      latest = { ...latest, toRun: startedPlan.toRun };
      if (startedPlan.toRun === 0) return;
      started = true;
      clock.start();
      bar.start(startedPlan.total, startedPlan.alreadyDone);
    },
    update(progress) {
      latest = progress;
      if (started) bar.update((plan?.alreadyDone ?? 0) + progress.done);
    },
    log(text) {
      if (started) io.stderr('\r\u001B[2K');
      io.stderr(`${text}\n`);
      redraw();
    },
    setStatus(next) {
      status = next;
      redraw();
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
