/** Reading a V8 .cpuprofile (`node --cpu-prof`): self time per function and per area. */
import { round } from './stats.js';

/** The parts of a V8 .cpuprofile this reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the program a function belongs to, from its script URL. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8 / native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  if (url.includes('/src/proxy/')) return 'ours: src/proxy';
  if (url.includes('/src/')) return 'ours: other src';
  if (url.includes('node_modules/undici/')) return 'undici';
  if (/node:internal\/(http|_http)|node:_http|node:http/.test(url)) return 'node: http';
  if (/node:internal\/streams|node:stream/.test(url)) return 'node: streams';
  if (/node:net|node:internal\/(net|stream_base|tcp)/.test(url)) return 'node: net';
  if (/node:internal\/(timers|process\/task_queues)|node:timers/.test(url))
    return 'node: timers, ticks';
  if (/node:events|node:internal\/event_target/.test(url)) return 'node: events';
  if (url.startsWith('node:')) return 'node: other';
  return 'other';
}

/** Self time per function and per area, in ms and as shares of the sampled (non-idle) time. */
export function summarizeProfile(profile: CpuProfile, top: number) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let index = 0; index < profile.samples.length; index++) {
    const id = profile.samples[index] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  }
  const functions = new Map<string, { us: number; area: string }>();
  const areas = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    const area = areaOf(frame.url, frame.functionName);
    if (area === 'idle') continue;
    busyUs += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const file = frame.url.replace(/^.*\/(dist|node_modules)\//, '').replace(/^file:\/\//, '');
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    const entry = functions.get(key) ?? { us: 0, area };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us: number) => round((100 * us) / busyUs, 1);
  return {
    busyMs: round(busyUs / 1000, 0),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, ms: round(us / 1000, 0), percent: share(us) })),
    functions: [...functions]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([name, { us, area }]) => ({ name, area, ms: round(us / 1000, 0), percent: share(us) })),
  };
}
