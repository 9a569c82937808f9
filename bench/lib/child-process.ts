/**
 * Children of a benchmark (agents, proxy, nginx, wrk): started pinned to CPUs when
 * `taskset` exists, with the open-files limit raised, watched for a ready line,
 * and always stopped (SIGTERM, then SIGKILL after a bound).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Whether `command` can be run (looked up on PATH). */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const TASKSET = hasCommand('taskset');

/** Open-files limit asked for the children (the hard limit may be lower; we take what we get). */
export const OPEN_FILES_LIMIT = 65_536;

/** Options of {@link startChild}. */
export interface ChildOptions {
  /** CPUs to pin the child to, as taskset's list (e.g. '0', '1', '0,1'); undefined: no pinning. */
  cpus?: string;
  /** Resolve once a stdout or stderr line matches; with no pattern, resolve at once. */
  readyPattern?: RegExp;
  /** Give up waiting for the ready line after this long, in milliseconds. @default 20000 */
  readyTimeoutMs?: number;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Label for messages. */
  name: string;
}

/** A running child. */
export interface RunningChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The line that matched `readyPattern`, with its capture groups. */
  readonly readyMatch: RegExpExecArray | undefined;
  /** Every line written so far (stdout and stderr), newest last, capped. */
  readonly lines: string[];
  /** Resolves with the exit code when the child exits by itself (or is stopped). */
  readonly exited: Promise<number | null>;
  /** Write a line to the child's stdin. */
  send(line: string): void;
  /** Next stdout/stderr line matching `pattern` (bounded by `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `killAfterMs`; resolves with the exit code once gone. */
  stop(killAfterMs?: number): Promise<number | null>;
}

const MAX_KEPT_LINES = 2000;
const live = new Set<RunningChild>();

function raiseLimitCommand(): string {
  // Ask for the soft limit up to the hard one: `ulimit -n N` fails above the hard limit.
  return `hard=$(ulimit -Hn); want=${OPEN_FILES_LIMIT}; if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi; ulimit -n "$want";`;
}

/** Start `command args` under bash with a raised open-files limit, pinned to `cpus`. */
export async function startChild(
  command: string,
  args: readonly string[],
  options: ChildOptions,
): Promise<RunningChild> {
  const quoted = [command, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  const pin = options.cpus !== undefined && TASKSET ? `taskset -c ${options.cpus} ` : '';
  const child = spawn('bash', ['-c', `${raiseLimitCommand()} exec ${pin}${quoted}`], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }>();
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > MAX_KEPT_LINES) lines.shift();
    for (const waiter of waiters) {
      const match = waiter.pattern.exec(line);
      if (match) {
        waiters.delete(waiter);
        waiter.resolve(match);
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  child.stdin.on('error', () => {});
  const exited = once(child, 'close').then(([code]) => code as number | null);

  const waitFor = (pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const waiter = {
        pattern,
        resolve: (match: RegExpExecArray) => {
          clearTimeout(timer);
          resolve(match);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `${options.name}: no line matching ${pattern} within ${timeoutMs} ms; last output:\n${lines.slice(-20).join('\n')}`,
          ),
        );
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then((code) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(
          new Error(
            `${options.name} exited (${code}) before printing ${pattern}; output:\n${lines.slice(-20).join('\n')}`,
          ),
        );
      });
    });

  let stopping: Promise<number | null> | undefined;
  const handle: RunningChild = {
    process: child,
    pid: child.pid as number,
    readyMatch: undefined,
    lines,
    exited,
    send: (line) => {
      child.stdin.write(`${line}\n`);
    },
    waitFor,
    stop: (killAfterMs = 10_000) => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
          await exited;
          clearTimeout(timer);
        }
        live.delete(handle);
        return child.exitCode;
      })();
      return stopping;
    },
  };
  live.add(handle);
  if (options.readyPattern) {
    try {
      const match = await waitFor(options.readyPattern, options.readyTimeoutMs ?? 20_000);
      (handle as { readyMatch: RegExpExecArray | undefined }).readyMatch = match;
    } catch (error) {
      await handle.stop(2_000);
      throw error;
    }
  }
  return handle;
}

/** Stop every child still running (for the end of a benchmark or a failure). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((child) => child.stop(5_000)));
}

/** Kill children synchronously when this process exits abnormally. */
process.on('exit', () => {
  for (const child of live) child.process.kill('SIGKILL');
});

/** Path of a compiled benchmark file, from this file's location (dist/bench/lib). */
export function benchScript(name: string): string {
  return new URL(`../${name}`, import.meta.url).pathname;
}

/** Path of a compiled file of the package (dist/src/...). */
export function packageScript(path: string): string {
  return new URL(`../../src/${path}`, import.meta.url).pathname;
}

/** Move running processes (every thread) to `cpus` (taskset's list); false without taskset. */
export function pinProcesses(pids: readonly number[], cpus: string): boolean {
  if (!TASKSET) return false;
  for (const pid of pids) {
    const result = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    if (result.status !== 0) return false;
  }
  return true;
}
