/** Memory and CPU of another process, read from /proc (Linux). */
import { readdirSync, readFileSync } from 'node:fs';

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

/** Busy and total time of each CPU since boot, in clock ticks (/proc/stat). */
export interface CpuTimes {
  busy: number[];
  total: number[];
}

/** Read the per-CPU lines of /proc/stat (`cpu0 user nice system idle iowait irq softirq steal`). */
export function sampleCpus(): CpuTimes {
  const busy: number[] = [];
  const total: number[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.+)$/.exec(line);
    if (!match) continue;
    const ticks = (match[2] as string).split(/\s+/).slice(0, 8).map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const sum = ticks.reduce((accumulated, value) => accumulated + value, 0);
    busy[Number(match[1])] = sum - idle;
    total[Number(match[1])] = sum;
  }
  return { busy, total };
}

/** Share of each CPU that was busy (0..1) between two samples. */
export function cpuBusyShares(before: CpuTimes, after: CpuTimes): number[] {
  return after.busy.map((busy, cpu) => {
    const elapsed = (after.total[cpu] ?? 0) - (before.total[cpu] ?? 0);
    return elapsed > 0 ? (busy - (before.busy[cpu] ?? 0)) / elapsed : Number.NaN;
  });
}

/** User + system CPU of `pids` together, in milliseconds (a pid that is gone counts 0). */
export function cpuMsOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += sampleProcess(pid).cpuMs;
    } catch {
      // Gone: nothing to add.
    }
  }
  return total;
}

/** Number of open file descriptors of `pid` (entries of /proc/<pid>/fd). */
export function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Connections the kernel dropped because a listen queue was full, since boot, for the
 * whole machine (`TcpExt: ListenOverflows` in /proc/net/netstat); NaN where unreadable.
 * A client whose SYN is dropped retries after 1, 3, 7, 15 s.
 */
export function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let index = 0; index + 1 < lines.length; index += 2) {
      const names = (lines[index] as string).split(/\s+/);
      const numbers = (lines[index + 1] as string).split(/\s+/);
      if (names[0] !== 'TcpExt:') continue;
      const at = names.indexOf('ListenOverflows');
      return at < 0 ? Number.NaN : Number(numbers[at]);
    }
  } catch {
    // Not Linux.
  }
  return Number.NaN;
}

/** Where a process's CPU went, from /proc/<pid>/stat, /status and each thread's stat. */
export interface ProcessCounters {
  userMs: number;
  systemMs: number;
  /** Minor page faults (a page mapped without I/O: fresh heap pages, mostly). */
  minorFaults: number;
  voluntarySwitches: number;
  involuntarySwitches: number;
  /** CPU (user + system) of each thread, ms, the main thread first. */
  threadsMs: number[];
}

function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Read {@link ProcessCounters} of `pid` (Linux). */
export function processCounters(pid: number): ProcessCounters {
  const fields = statFields(`/proc/${pid}/stat`);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  const ms = (ticks: string | undefined) => (Number(ticks) * 1000) / CLOCK_TICKS_PER_SECOND;
  const threads = readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .sort((a, b) => (a === pid ? -1 : b === pid ? 1 : a - b));
  const threadsMs = threads.map((tid) => {
    try {
      const thread = statFields(`/proc/${pid}/task/${tid}/stat`);
      return ms(thread[11]) + ms(thread[12]);
    } catch {
      return 0;
    }
  });
  return {
    // utime, stime and minflt are fields 14, 15 and 10 of stat (11, 12 and 7 after the name).
    userMs: ms(fields[11]),
    systemMs: ms(fields[12]),
    minorFaults: Number(fields[7]),
    voluntarySwitches: field('voluntary_ctxt_switches'),
    involuntarySwitches: field('nonvoluntary_ctxt_switches'),
    threadsMs,
  };
}

/**
 * What `pid` spent per request between two {@link processCounters} samples: user and
 * system µs, minor faults and context switches, and the share of its CPU taken by
 * threads other than the main one (V8's GC and compiler helpers, libuv's pool).
 */
export function countersPerRequest(
  before: ProcessCounters,
  after: ProcessCounters,
  requests: number,
) {
  const per = (value: number, scale = 1) =>
    requests > 0 ? Math.round((value * scale * 10) / requests) / 10 : Number.NaN;
  const threadDelta = after.threadsMs.map((ms, index) => ms - (before.threadsMs[index] ?? 0));
  const total = threadDelta.reduce((sum, ms) => sum + ms, 0);
  return {
    userUs: per(after.userMs - before.userMs, 1000),
    systemUs: per(after.systemMs - before.systemMs, 1000),
    minorFaultsPer1000: per(after.minorFaults - before.minorFaults, 1000),
    contextSwitchesPer1000: per(
      after.voluntarySwitches -
        before.voluntarySwitches +
        after.involuntarySwitches -
        before.involuntarySwitches,
      1000,
    ),
    otherThreadsShare:
      total > 0 ? Math.round((1 - (threadDelta[0] ?? 0) / total) * 1000) / 1000 : Number.NaN,
    threads: threadDelta.length,
  };
}
