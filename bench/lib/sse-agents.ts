/** Start the static streaming agents (bench/lib/sse-agents-child.ts) in a child process. */
import { benchScript, type RunningChild, startChild } from './child-process.js';
import { loopbackHostfile } from './free-port.js';

/** Static streaming agents in a child process. */
export interface SseAgentsProcess {
  readonly child: RunningChild;
  readonly ports: readonly number[];
  /** Hostfile text listing the agents (127.0.0.1, tab, port). */
  readonly hostfileText: string;
  stop(): Promise<void>;
}

/** Start `count` agents streaming `tokens` tokens `intervalMs` apart, pinned to `cpus`. */
export async function startSseAgents(
  count: number,
  tokens: number,
  intervalMs: number,
  cpus?: string,
): Promise<SseAgentsProcess> {
  const child = await startChild(
    process.execPath,
    [benchScript('lib/sse-agents-child.js'), JSON.stringify({ count, tokens, intervalMs })],
    {
      name: 'sse-agents',
      readyPattern: /^SSE READY (.+)$/,
      ...(cpus === undefined ? {} : { cpus }),
    },
  );
  const { ports } = JSON.parse(child.readyMatch?.[1] ?? '{}') as { ports: number[] };
  return {
    child,
    ports,
    hostfileText: loopbackHostfile(ports),
    async stop() {
      await child.stop();
    },
  };
}
