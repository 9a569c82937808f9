/**
 * One writer per results file: `aurora-swarm run` and `aurora-swarm job collect` hold a lock
 * on their `--out` for as long as they may write it, so two runs on the same file never both
 * do every prompt, and two collects (or a run and a collect) never interleave their lines.
 *
 * The lock is proper-lockfile's: a directory `<results>.lock` made with `mkdir` (atomic on
 * local and network file systems, unlike `flock`, which NFS and Lustre clients may not
 * honour) whose mtime the holder refreshes every {@link RESULTS_LOCK_UPDATE_MS}. A lock not
 * refreshed for {@link RESULTS_LOCK_STALE_MS} is stale and taken over: that is how a run
 * killed on another node (a lost allocation) is recognised. The stale time is long because
 * NFS clients cache a directory's attributes for up to 60 s by default (`acdirmax`).
 *
 * Inside the directory, `owner.json` names the holder (pid, host, start), for the message a
 * second run prints and so that a holder on this host that no longer exists (kill -9, a
 * crash) is recognised at once instead of after the stale time.
 *
 * The lock belongs to the file, not to the name it was given by: a `--out` that is a
 * symbolic link, or that is reached through a symlinked directory (a home directory's link
 * to project storage, as HPC sites set them up), is locked beside the file it resolves to,
 * so two runs that spell the same file differently still exclude each other.
 */
import * as fs from 'node:fs';
import { readFile, readlink, realpath, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { FileLockedError, type FileLockHolder, InputFileError } from '../errors.js';
import { describeFileError } from '../internal/describe-file-error.js';

/** A lock not refreshed for this long belongs to a dead process and is taken over. */
export const RESULTS_LOCK_STALE_MS = 120_000;
/** How often the holder refreshes its lock's mtime. */
export const RESULTS_LOCK_UPDATE_MS = 10_000;

const OWNER_FILE = 'owner.json';

/** Options of {@link lockResultsFile}. */
export interface LockResultsFileOptions {
  /** What takes the lock, as others' messages name it (`another job collect (pid …)`). @default 'run' */
  command?: string;
  /** Told, in one line, when a lock left by a dead run is taken over. */
  onNotice?(message: string): void;
  /**
   * Called when the lock is lost while held (its directory removed, or not refreshed in
   * time, e.g. a file system that hung for minutes): the caller must stop writing.
   */
  onCompromised?(error: Error): void;
  /** @default RESULTS_LOCK_STALE_MS */
  staleMs?: number;
  /** @default RESULTS_LOCK_UPDATE_MS */
  updateMs?: number;
}

/** A held lock. */
export interface ResultsLock {
  /** The lock directory. */
  readonly lockPath: string;
  /** Give the lock up. Idempotent; never rejects. */
  release(): Promise<void>;
}

/** `14:05`, or `2025-01-15 14:05` when not today (local time, as the proxy's log). */
export function formatLockTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return 'at an unknown time';
  const pad = (value: number) => String(value).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return date.toDateString() === now.toDateString()
    ? time
    : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

/** What holds a lock, as messages name it: `run` unless the lock says otherwise. */
function holderCommand(holder: FileLockHolder | undefined): string {
  return holder?.command ?? 'run';
}

function describeHolder(holder: FileLockHolder | undefined): string {
  if (holder === undefined) return 'another run or collect';
  const where = holder.host === hostname() ? '' : ` on ${holder.host}`;
  return `another ${holderCommand(holder)} (pid ${holder.pid}${where}, started ${formatLockTime(holder.startedAt)})`;
}

/**
 * Whether process `pid` (on this host) still runs. A zombie does not: a run killed with
 * kill -9 whose parent has not collected it yet (a workflow tool that starts runs and
 * reaps them late) still answers `kill(pid, 0)`, but it will never write again. Linux
 * says so in /proc; elsewhere a zombie counts as running.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (command) state ...": the command may hold spaces and parentheses.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function readHolder(lockPath: string): Promise<FileLockHolder | undefined> {
  try {
    const value = JSON.parse(await readFile(join(lockPath, OWNER_FILE), 'utf8')) as unknown;
    const holder = value as Partial<FileLockHolder> | null;
    if (
      holder !== null &&
      typeof holder === 'object' &&
      Number.isInteger(holder.pid) &&
      typeof holder.host === 'string' &&
      typeof holder.startedAt === 'string' &&
      (holder.command === undefined || typeof holder.command === 'string')
    ) {
      return holder as FileLockHolder;
    }
  } catch {
    // No owner file (yet), or not ours: the holder is unknown.
  }
  return undefined;
}

type Callback = (error: NodeJS.ErrnoException | null) => void;

/**
 * The file system proper-lockfile works through (its documented `fs` option): creating the
 * lock directory also writes `owner.json` into it, before proper-lockfile sets the mtime it
 * later checks (so the file does not make the lock look compromised), and removing the lock
 * removes the directory with its content (proper-lockfile's own `rmdir` needs it empty).
 */
function lockFileSystem(ownerText: string) {
  return {
    ...fs,
    mkdir(path: string, callback: Callback) {
      fs.mkdir(path, (error) => {
        if (error) return callback(error);
        fs.writeFile(join(path, OWNER_FILE), ownerText, (writeError) => {
          if (!writeError) return callback(null);
          fs.rm(path, { recursive: true, force: true }, () => callback(writeError));
        });
      });
    },
    rmdir(path: string, callback: Callback) {
      fs.rm(path, { recursive: true }, callback);
    },
    rmdirSync(path: string) {
      fs.rmSync(path, { recursive: true });
    },
  };
}

/** `path` with every symbolic link resolved, also when the file (or a link's target) does not exist yet. */
async function resolvedFilePath(path: string): Promise<string | undefined> {
  let current = resolve(path);
  for (let links = 0; links < 40; links++) {
    try {
      return await realpath(current);
    } catch {
      // Missing: a link whose target does not exist yet, or a file not yet created.
    }
    let target: string;
    try {
      target = await readlink(current);
    } catch {
      try {
        return join(await realpath(dirname(current)), basename(current));
      } catch {
        return undefined;
      }
    }
    current = resolve(dirname(current), target);
  }
  return undefined;
}

/**
 * Where the lock of results file `path` lives: `<path>.lock`, unless `path` is a symbolic
 * link or lies under one, in which case beside the file it resolves to (the file itself
 * need not exist). A directory that cannot be resolved (missing) leaves `path` as given;
 * making the lock then fails with the reason.
 */
async function resultsLockPath(path: string): Promise<string> {
  const real = await resolvedFilePath(path);
  return `${real === undefined || real === resolve(path) ? path : real}.lock`;
}

/**
 * Take the lock on results file `path` (the file itself need not exist).
 * @throws {FileLockedError} when another live run holds it.
 * @throws {InputFileError} when the lock directory cannot be made (permissions, read-only).
 */
export async function lockResultsFile(
  path: string,
  options: LockResultsFileOptions = {},
): Promise<ResultsLock> {
  const staleMs = options.staleMs ?? RESULTS_LOCK_STALE_MS;
  const updateMs = options.updateMs ?? RESULTS_LOCK_UPDATE_MS;
  const lockPath = await resultsLockPath(path);
  const previous = await stat(lockPath).catch(() => undefined);
  if (previous !== undefined) {
    const holder = await readHolder(lockPath);
    if (holder !== undefined && holder.host === hostname() && !isAlive(holder.pid)) {
      options.onNotice?.(
        `${path} was locked by ${holderCommand(holder)} pid ${holder.pid} (started ${formatLockTime(holder.startedAt)}), which is no longer running: taking the lock over`,
      );
      await rm(lockPath, { recursive: true, force: true });
    } else if (previous.mtimeMs < Date.now() - staleMs) {
      const age = Math.round((Date.now() - previous.mtimeMs) / 1000);
      options.onNotice?.(
        `${path} was locked by ${describeHolder(holder).replace(/^another /, 'a ')}, whose lock has not been refreshed for ${age}s: taking it over`,
      );
    }
  }
  // Loaded on first use: proper-lockfile installs process exit hooks (signal-exit) that the
  // other subcommands have no use for.
  const lockfile = await import('proper-lockfile');
  const owner: FileLockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: options.command ?? 'run',
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, {
      lockfilePath: lockPath,
      realpath: false,
      stale: staleMs,
      update: updateMs,
      retries: 0,
      fs: lockFileSystem(`${JSON.stringify(owner)}\n`),
      onCompromised: (error: Error) => options.onCompromised?.(error),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      const holder = await readHolder(lockPath);
      throw new FileLockedError(
        `${describeHolder(holder)} is writing ${path} (lock ${lockPath}; a lock not refreshed for ${Math.round(staleMs / 1000)}s is taken over)`,
        holder === undefined ? { path } : { path, holder },
      );
    }
    throw new InputFileError(`cannot lock results file ${path}: ${describeFileError(error)}`, {
      path,
      cause: error,
    });
  }
  let released: Promise<void> | undefined;
  return {
    lockPath,
    release: () => {
      released ??= release().catch(() => undefined);
      return released;
    },
  };
}
