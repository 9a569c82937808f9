/**
 * The directory that holds the proxy's owner-only files (`~/.aurora-swarm/` by
 * default: the `--unix` socket, the `--token auto` token file). Another user who can
 * write in it could remove the socket and put their own in its place (and read what
 * the laptop sends), or replace the token file with a token they know, so such a
 * directory is refused. Returns problems as sentences; the caller picks the error.
 */
import { mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `~/.aurora-swarm`, where the owner-only files live unless told otherwise. */
export function auroraSwarmDirectory(env: Readonly<Record<string, string | undefined>>): string {
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  return join(home, '.aurora-swarm');
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(3, '0');
}

/**
 * Make sure `directory` exists and only its owner (this user, or root) can write in
 * it: a missing directory is created with mode 0700 (its missing parents too), an
 * existing one is checked. Returns `undefined` when it is fit, else what is wrong.
 */
export function ensurePrivateDirectory(directory: string): string | undefined {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      return `cannot read the directory ${directory}: ${(error as Error).message}`;
    }
    try {
      mkdirSync(directory, { recursive: true, mode: 0o700 });
      return undefined;
    } catch (mkdirError) {
      return `cannot create the directory ${directory}: ${(mkdirError as Error).message}`;
    }
  }
  if (!stats.isDirectory()) return `${directory} is not a directory`;
  if ((stats.mode & 0o022) !== 0) {
    return `the directory ${directory} can be written by other users (mode ${octal(stats.mode)}), who could replace what the proxy puts there; use a directory only you can write, e.g. ~/.aurora-swarm`;
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) {
    return `the directory ${directory} belongs to another user (uid ${stats.uid}); use a directory of your own, e.g. ~/.aurora-swarm`;
  }
  return undefined;
}
