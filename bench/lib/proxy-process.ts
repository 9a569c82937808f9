/** Our proxy as a child process (the `aurora-swarm-proxy` CLI), reporting its real port. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProxyStartedLine } from '../../src/proxy/server/listening.js';
import { packageScript, type RunningChild, startChild } from './child-process.js';
import { childPids } from './nginx.js';

/** A running proxy child. */
export interface ProxyProcess {
  readonly url: string;
  readonly child: RunningChild;
  /** The pid of the proxy and of its workers, if any (for /proc sampling). */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * The proxy bin the benchmarks run: this build's, or another build's named by
 * `AURORA_BENCH_PROXY` (e.g. a checkout of main, for a before/after in the same run).
 */
export function proxyBin(): string {
  return process.env.AURORA_BENCH_PROXY || packageScript('cli/aurora-swarm-proxy.js');
}

/**
 * The results file name of benchmark `name`: `name`, or `name-LABEL` when another build
 * runs (`AURORA_BENCH_PROXY`; LABEL from `AURORA_BENCH_LABEL`, e.g. the commit), so a
 * before/after never overwrites this build's figures.
 */
export function resultsName(name: string): string {
  if (!process.env.AURORA_BENCH_PROXY) return name;
  return `${name}-${process.env.AURORA_BENCH_LABEL || 'other-build'}`;
}

/** Start `aurora-swarm-proxy` on 127.0.0.1:0 over `hostfileText`. */
export async function startProxyProcess(
  directory: string,
  hostfileText: string,
  options: { cpus?: string; workers?: number; extraArgs?: string[]; nodeArgs?: string[] } = {},
): Promise<ProxyProcess> {
  const hostfile = join(directory, 'hostfile.txt');
  writeFileSync(hostfile, hostfileText);
  const args = [
    ...(options.nodeArgs ?? []),
    proxyBin(),
    '--hostfile',
    hostfile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--log-level',
    'INFO',
    ...(options.workers === undefined ? [] : ['--workers', String(options.workers)]),
    ...(options.extraArgs ?? []),
  ];
  const child = await startChild(process.execPath, args, {
    name: 'proxy',
    readyPattern: /Proxy started/,
    ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
  });
  const started = parseProxyStartedLine(child.readyMatch?.input ?? '');
  if (started === undefined) throw new Error(`unexpected startup line: ${child.readyMatch?.input}`);
  const port = started.port;
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    pids: () => [child.pid, ...childPids(child.pid)],
    async stop() {
      await child.stop();
    },
  };
}
