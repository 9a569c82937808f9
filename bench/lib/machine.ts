/** Describes the machine a benchmark ran on, for the results files. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** What the results files record about the machine. */
export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryMb: number;
  node: string;
  kernel: string;
  nginx: string | null;
  wrk: string | null;
  date: string;
}

function toolVersion(command: string, args: string[]): string | null {
  // nginx -v and wrk -v print to stderr, and wrk exits 1: read both streams.
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) return null;
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  return text.split('\n')[0] ?? null;
}

/** Read the machine description (nproc, CPU model from /proc/cpuinfo, node, nginx, wrk). */
export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  } catch {
    // Not Linux: keep os.cpus()'s name.
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    nginx: toolVersion('nginx', ['-v']),
    wrk: toolVersion('wrk', ['-v']),
    date: new Date().toISOString(),
  };
}
