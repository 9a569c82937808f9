/**
 * `aurora-swarm-proxy --pid-file PATH`: the proxy's process id in a file, so that
 * scripts signal the right process (`kill -HUP $(cat PATH)` reloads the hostfile)
 * instead of guessing with `pgrep`. Checked before the proxy starts (the directory
 * must be writable; a file naming another live proxy is refused), written once it
 * listens (a temporary file renamed into place, so a reader never sees half a
 * number), removed on a clean exit if it still names this process. With `--workers`
 * it names the primary, which relays SIGHUP to the workers.
 */
import {
  accessSync,
  constants,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { InvalidOptionError, ProxyStartError } from '../errors.js';

function pidIn(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether `pid` is a running aurora-swarm process (not a stranger that reused the number). */
function isRunningProxy(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('aurora-swarm');
  } catch {
    // No /proc (macOS): a live process with that number is taken as the proxy.
    return true;
  }
}

/**
 * Check `path` before starting: its directory exists and is writable, it is not a
 * directory, and it does not name another running proxy (a stale file is fine: it
 * will be replaced).
 * @throws {InvalidOptionError} when the file cannot be written there.
 * @throws {ProxyStartError} when another proxy's pid is in it.
 */
export function checkPidFile(path: string): void {
  const directory = dirname(path);
  try {
    if (!statSync(directory).isDirectory()) throw new Error('not a directory');
    accessSync(directory, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'its directory does not exist'
        : code === 'EACCES'
          ? 'its directory is not writable'
          : `its directory is unusable (${(error as Error).message})`;
    throw new InvalidOptionError(`cannot write the pid file ${path}: ${reason}`);
  }
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return;
  }
  if (isDirectory) {
    throw new InvalidOptionError(`cannot write the pid file ${path}: it is a directory`);
  }
  const pid = pidIn(path);
  if (pid !== undefined && pid !== process.pid && isRunningProxy(pid)) {
    throw new ProxyStartError(
      `the pid file ${path} names a proxy that is still running (pid ${pid}): stop it, or choose another --pid-file`,
    );
  }
}

/** Write this process's id to `path` (atomically: a temporary file renamed over it). */
export function writePidFile(path: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${process.pid}\n`, { mode: 0o644 });
  renameSync(temporary, path);
}

/** Remove `path` if it still names this process (another proxy may have taken it over). */
export function removePidFile(path: string): void {
  if (pidIn(path) === process.pid) rmSync(path, { force: true });
}
