/**
 * A real redis-server per test: 127.0.0.1, a free port, its own temporary directory,
 * optionally a password and the append-only file, restartable on the same port. Stopped
 * (SIGKILL if need be) and removed after the test.
 *
 * Without redis-server the suites skip with a visible reason, except under CI=true,
 * where a missing redis-server is a failure (.ci/run installs Debian's package).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

function findRedisServer(): string | undefined {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  try {
    return (
      execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

/** The redis-server binary, or undefined when it is not installed. */
export const REDIS_SERVER = findRedisServer();

/**
 * The `skip` option of a suite that needs redis-server: false when it is there; a reason
 * when it is not (outside CI). Under CI=true a missing redis-server throws: it must not
 * pass silently.
 */
export function skipWithoutRedis(): string | false {
  if (REDIS_SERVER !== undefined) return false;
  if (process.env.CI === 'true') {
    throw new Error(
      'redis-server is not installed, and CI=true requires it (apt-get install redis-server)',
    );
  }
  return 'redis-server is not installed (apt-get install redis-server); the Redis job tests are skipped';
}

/** A free TCP port on 127.0.0.1 (redis-server cannot be told to pick one and say which). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Options of {@link startRedis}. */
export interface TestRedisOptions {
  /** `requirepass`. */
  password?: string;
  /** Append-only file with fsync on every write (a restart loses nothing). @default false */
  appendOnly?: boolean;
}

/** A redis-server the test controls. */
export interface TestRedis {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:port`. */
  readonly url: string;
  /** The same URL without the password. */
  readonly bareUrl: string;
  /** Stop it (SIGTERM, it saves its data) and resolve once it has exited. */
  stop(): Promise<void>;
  /** Start it again on the same port and directory. */
  start(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
}

/** Start a redis-server for this test; stopped and removed after it. */
export async function startRedis(
  t: TestContext,
  options: TestRedisOptions = {},
): Promise<TestRedis> {
  if (REDIS_SERVER === undefined) throw new Error('redis-server is not installed');
  const directory = mkdtempSync(join(tmpdir(), 'aurora-swarm-redis-'));
  let port = await freePort();
  const args = () => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    directory,
    '--save',
    '',
    '--logfile',
    '',
    '--daemonize',
    'no',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'always',
  ];
  const password = options.password === undefined ? [] : ['--requirepass', options.password];
  let child: ChildProcess | undefined;
  const start = async () => {
    const server = spawn(REDIS_SERVER as string, [...args(), ...password], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = server;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (/Ready to accept connections/.test(output)) {
          server.stdout?.off('data', onData);
          server.stdout?.resume();
          resolve();
        }
      };
      server.stdout?.on('data', onData);
      server.stderr?.resume();
      server.once('exit', (code) =>
        reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)),
      );
    });
  };
  const stopWith = async (signal: NodeJS.Signals) => {
    const server = child;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = once(server, 'exit');
    server.kill(signal);
    await exited;
  };
  // The port was free a moment ago; another process (an outgoing connection given the same
  // ephemeral port) may have taken it since: then try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      if (attempt >= 5 || !/Address already in use/.test(String(error))) throw error;
      port = await freePort();
    }
  }
  t.after(async () => {
    await stopWith('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });
  const auth = options.password === undefined ? '' : `:${options.password}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    bareUrl: `redis://127.0.0.1:${port}`,
    stop: () => stopWith('SIGTERM'),
    start,
    kill: () => stopWith('SIGKILL'),
  };
}
