/** Helpers of the CLI tests: a scripted io for in-process runs, and files to watch. */
import { EventEmitter, once } from 'node:events';
import { readFileSync, watch, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { CliIo } from '../../src/cli/cli-io.js';
import { type MockSwarm, startMockSwarm } from '../../src/mock/mock-swarm.js';

/** An io whose output is collected and whose signals the test sends. */
export interface ScriptedIo {
  io: CliIo;
  stdout(): string;
  stderr(): string;
  stderrLines(): string[];
  signal(name: NodeJS.Signals): void;
  /** Resolves with the first stderr line (seen or future) matching `pattern`. */
  waitForStderr(pattern: RegExp): Promise<string>;
}

/** A scripted io; `terminal` makes stdout and stderr look like a terminal. */
export function scriptedIo(
  env: Record<string, string> = {},
  options: { terminal?: boolean } = {},
): ScriptedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const events = new EventEmitter();
  const io: CliIo = {
    stdout: (text) => stdout.push(text),
    stderr: (text) => {
      stderr.push(text);
      events.emit('stderr');
    },
    env,
    onSignal: (handler) => {
      events.on('signal', handler);
      return () => events.off('signal', handler);
    },
    stdoutIsTTY: options.terminal ?? false,
    stderrIsTTY: options.terminal ?? false,
    stderrColumns: 100,
  };
  const stderrLines = () => stderr.join('').split('\n').filter(Boolean);
  return {
    io,
    stdout: () => stdout.join(''),
    stderr: () => stderr.join(''),
    stderrLines,
    signal: (name) => events.emit('signal', name),
    waitForStderr: async (pattern) => {
      for (;;) {
        const found = stderrLines().find((line) => pattern.test(line));
        if (found !== undefined) return found;
        await once(events, 'stderr');
      }
    },
  };
}

/** The JSON lines of a results file (a cut last line is left out). */
export function readJsonLines(path: string): Array<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  lines.pop(); // after the last newline: '' or a line still being written
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Resolves once `path` holds at least `count` complete lines; watches the directory (no polling). */
export async function waitForLineCount(path: string, count: number): Promise<void> {
  const countLines = () => {
    try {
      const text = readFileSync(path, 'utf8');
      let lines = 0;
      for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) {
        lines++;
      }
      return lines;
    } catch {
      return 0;
    }
  };
  const watcher = watch(dirname(path));
  try {
    const changed = new EventEmitter();
    watcher.on('change', () => changed.emit('change'));
    while (countLines() < count) await once(changed, 'change');
  } finally {
    watcher.close();
  }
}

/** A JSONL prompts file of `count` prompts with ids `q0`, `q1`, ...; returns its path. */
export function writePrompts(directory: string, count: number, name = 'prompts.jsonl'): string {
  const path = join(directory, name);
  const lines: string[] = [];
  for (let index = 0; index < count; index++) {
    lines.push(JSON.stringify({ id: `q${index}`, prompt: `question number ${index}` }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Four agents that answer `answered` chat requests, then hang every request until released. */
export async function startStallingSwarm(t: TestContext, answered: number) {
  let replies = 0;
  let released = false;
  const swarm: MockSwarm = await startMockSwarm({
    count: 4,
    behavior: {
      reply: (prompt, agentIndex) => {
        replies++;
        if (replies === answered && !released) {
          for (const agent of swarm.agents) agent.setBehavior({ failure: 'hang' });
        }
        return `agent ${agentIndex}: ${prompt}`;
      },
    },
  });
  t.after(() => swarm.close());
  return {
    swarm,
    release: () => {
      released = true;
      for (const agent of swarm.agents) agent.setBehavior({ failure: 'none' });
    },
  };
}

/**
 * Three agents that answer `answered` chat requests, then drop every connection, `/health`
 * included (the network to all of them is gone) until `restore()`.
 */
export async function startVanishingSwarm(t: TestContext, answered: number) {
  let replies = 0;
  const swarm: MockSwarm = await startMockSwarm({
    count: 3,
    behavior: {
      reply: (prompt) => {
        replies++;
        if (replies === answered) {
          for (const agent of swarm.agents) agent.setBehavior({ failure: 'drop' });
        }
        return prompt;
      },
    },
  });
  t.after(() => swarm.close());
  return {
    swarm,
    restore: () => {
      for (const agent of swarm.agents) agent.setBehavior({ failure: 'none' });
    },
  };
}
