/**
 * The real `aurora-swarm-proxy` bin as a child process, for the demo: the same program a
 * user starts by hand, so the demo shows the real thing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseProxyStartedLine } from '../proxy/server/listening.js';
import { CliError } from './cli-errors.js';

/** The built `aurora-swarm-proxy` entry point next to this module. */
const PROXY_BIN_PATH = fileURLToPath(new URL('./aurora-swarm-proxy.js', import.meta.url));

/** A proxy process that printed its startup line. */
export interface ProxyProcess {
  readonly child: ChildProcess;
  /** The port it listens on. */
  readonly port: number;
  /** SIGTERM, then wait for the exit (it logs `Proxy shut down`). Resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Spawn `aurora-swarm-proxy` with `args` and wait for its startup line. Every line it
 * logs is passed to `onLine`.
 * @throws {CliError} with the proxy's own last line when it exits before starting.
 */
export async function spawnProxyProcess(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  onLine: (line: string) => void,
): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [PROXY_BIN_PATH, ...args], {
    env: { ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
  });
  let pending = '';
  let lastLine = '';
  const started = new Promise<number>((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        lastLine = line;
        onLine(line);
        const started = parseProxyStartedLine(line);
        if (started?.port !== undefined) resolve(started.port);
      }
    });
    child.once('error', (error) =>
      reject(new CliError(`cannot start the proxy: ${error.message}`)),
    );
    void exited.then((code) => {
      if (pending !== '') {
        lastLine = pending;
        onLine(pending);
      }
      reject(
        new CliError(
          `the proxy exited (code ${code}) before it started: ${lastLine.replace(/^.*aurora_swarm\.proxy: /, '')}`,
        ),
      );
    });
  });
  const port = await started;
  return {
    child,
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
      }
      return exited;
    },
  };
}
