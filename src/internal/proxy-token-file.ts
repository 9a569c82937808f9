/**
 * The file that carries the proxy's token from the proxy to its clients
 * (`~/.aurora-swarm/proxy-token` by default): `aurora-swarm-proxy --token auto` keeps
 * its token there (mode 0600), and the pools and the CLI read it when
 * `AURORA_SWARM_PROXY_TOKEN` is unset. Problems come back as sentences; the caller
 * turns them into its own error.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { auroraSwarmDirectory, ensurePrivateDirectory } from './private-directory.js';

/** Environment variable naming the token file when none is given. */
export const PROXY_TOKEN_FILE_ENV_VAR = 'AURORA_SWARM_PROXY_TOKEN_FILE';

/** Random bytes of a generated token (256 bits, 43 base64url characters). */
const TOKEN_BYTES = 32;
/** What a token may be: visible ASCII, no spaces (it goes into a header). */
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

/** `~/.aurora-swarm/proxy-token` (`HOME` from `env` when set). */
export function defaultProxyTokenFile(env: Readonly<Record<string, string | undefined>>): string {
  return join(auroraSwarmDirectory(env), 'proxy-token');
}

/** What reading a token file gave. */
export type TokenFileContent =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'problem'; readonly problem: string };

/** The token in `text` (its first line, trimmed), or why there is none. */
function tokenIn(text: string, path: string): Exclude<TokenFileContent, { kind: 'missing' }> {
  const token = (text.split('\n', 1)[0] ?? '').trim();
  if (!TOKEN_TEXT.test(token)) {
    return {
      kind: 'problem',
      problem: `${path} does not hold a token (expected one line of visible ASCII characters without spaces)`,
    };
  }
  return { kind: 'token', token };
}

/** Read the token of `path`, as a client does (a missing file is `missing`, not a problem). */
export function readProxyTokenFile(path: string): TokenFileContent {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'problem', problem: `cannot read the token file ${path}: ${code ?? error}` };
  }
  return tokenIn(text, path);
}

/** The proxy's token from `--token auto`: the one kept in the file, or a new one. */
export type AutoToken =
  | { readonly kind: 'token'; readonly token: string; readonly created: boolean }
  | { readonly kind: 'problem'; readonly problem: string };

function existingToken(path: string): AutoToken {
  const stats = statSync(path);
  if (!stats.isFile()) return { kind: 'problem', problem: `${path} is not a regular file` };
  if ((stats.mode & 0o077) !== 0) {
    const mode = (stats.mode & 0o777).toString(8);
    return {
      kind: 'problem',
      problem: `the token file ${path} can be read by other users (mode ${mode}): run chmod 600 ${path}, or delete it for a new token`,
    };
  }
  const content = tokenIn(readFileSync(path, 'utf8'), path);
  return content.kind === 'token' ? { ...content, created: false } : content;
}

/**
 * The token `--token auto` uses: the one already in `path` (so that a restarted
 * proxy, or a second one, keeps the token its clients have), else a new random one
 * written there with mode 0600 (created exclusively: two proxies starting at once
 * end up with the same token). The directory is created owner-only when missing.
 */
export function loadOrCreateProxyToken(path: string): AutoToken {
  const directoryProblem = ensurePrivateDirectory(dirname(path));
  if (directoryProblem !== undefined) return { kind: 'problem', problem: directoryProblem };
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  let descriptor: number;
  try {
    descriptor = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') {
      return { kind: 'problem', problem: `cannot write the token file ${path}: ${code ?? error}` };
    }
    try {
      return existingToken(path);
    } catch (readError) {
      return {
        kind: 'problem',
        problem: `cannot read the token file ${path}: ${(readError as NodeJS.ErrnoException).code ?? readError}`,
      };
    }
  }
  try {
    writeSync(descriptor, `${token}\n`);
  } finally {
    closeSync(descriptor);
  }
  return { kind: 'token', token, created: true };
}
