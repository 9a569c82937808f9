/** Memory and CPU of another process, read from /proc (Linux). */
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second (`getconf CLK_TCK`), 100 on every Linux we run on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A snapshot of one process. */
export interface ProcessSample {
  /** Resident set now, in MB. */
  rssMb: number;
  /** Peak resident set (VmHWM) since the process started, in MB. */
  peakRssMb: number;
  /** User + system CPU time since the process started, in milliseconds. */
  cpuMs: number;
}

/** Read /proc/<pid>/status (VmRSS, VmHWM) and /proc/<pid>/stat (utime, stime). */
export function sampleProcess(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    rssMb: kb('VmRSS') / 1024,
    peakRssMb: kb('VmHWM') / 1024,
    cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
  };
}

/** Peak RSS of this process in MB (getrusage's maxRSS). */
export function ownPeakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
