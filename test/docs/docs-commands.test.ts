/**
 * The shell commands of README.md and docs/*.md cannot rot: every `aurora-swarm` and
 * `aurora-swarm-proxy` invocation is parsed by the real CLI (actions replaced by no-ops),
 * every `curl` runs against a real proxy in front of simulated agents, every
 * `node dist/examples/...` names a built example, and the README's TypeScript is the
 * example file verbatim (which the build compiles and this test runs).
 *
 * Commands that need a real cluster or the network are listed in EXCLUDED with a reason.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import type { CliOutcome } from '../../src/cli/cli-io.js';
import { createProxyCommand } from '../../src/cli/commands/proxy-command.js';
import { parseAndRun } from '../../src/cli/configure-command.js';
import { createProgram } from '../../src/cli/program.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { scriptedIo } from '../cli/cli-test-helpers.js';
import { startTestProxy, temporaryDirectory } from '../proxy/proxy-test-helpers.js';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Programs the docs mention that this test does not run, and why. Anything else found in
 * a bash block fails the test until it is checked here or listed.
 */
const EXCLUDED: Readonly<Record<string, string>> = {
  ssh: 'needs a login node',
  autossh: 'needs a login node',
  conda: 'needs a cluster environment',
  ss: 'inspects the local machine, not this project',
  npm: 'npm install / start / test / run build / link are what CI itself runs',
  kill: 'stops a process the reader started',
  mkdir: "creates the reader's own directory",
  'redis-server': "starts the reader's own Redis (the job tests start a real one: test/job)",
};

/** Fenced ```bash / ```sh / ```shell blocks of a markdown file. */
function bashBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const pattern = /^```(?:bash|sh|shell)\n([\s\S]*?)^```/gm;
  for (let match = pattern.exec(markdown); match; match = pattern.exec(markdown)) {
    blocks.push(match[1] ?? '');
  }
  return blocks;
}

/** A simple command: its words (quotes removed, variables expanded) and its env prefix. */
interface ShellCommand {
  words: string[];
  env: Record<string, string>;
  text: string;
}

/**
 * Split a block into simple commands, like a POSIX shell would for what docs contain:
 * quotes, backslash-newline, comments, `&&`, `||`, `|`, `;`, `&`, redirections, `VAR=x cmd`.
 */
function parseShell(block: string, variables: Record<string, string>): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let words: string[] = [];
  let word: string | undefined;
  let start = 0;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = (index: number) => {
    endWord();
    const env: Record<string, string> = {};
    while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
      const [name, ...value] = (words.shift() ?? '').split('=');
      env[name ?? ''] = value.join('=');
    }
    if (words.length > 0) commands.push({ words, env, text: block.slice(start, index).trim() });
    words = [];
    start = index + 1;
  };
  const expand = (text: string) =>
    text.replace(
      /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
      (_all, name: string) => variables[name] ?? '',
    );
  for (let index = 0; index < block.length; index++) {
    const character = block[index] as string;
    const next = block[index + 1];
    if (character === '\\' && next === '\n') {
      index++;
    } else if (character === "'") {
      const end = block.indexOf("'", index + 1);
      word = (word ?? '') + block.slice(index + 1, end);
      index = end;
    } else if (character === '"') {
      const end = block.indexOf('"', index + 1);
      word = (word ?? '') + expand(block.slice(index + 1, end));
      index = end;
    } else if (character === '#' && word === undefined) {
      while (index < block.length && block[index] !== '\n') index++;
      endCommand(index);
    } else if (character === '\n' || character === ';') {
      endCommand(index);
    } else if ((character === '&' || character === '|') && next === character) {
      endCommand(index);
      index++;
      start = index + 1;
    } else if (character === '|' || (character === '&' && block[index - 1] !== '>')) {
      endCommand(index);
    } else if (character === '>' || character === '<') {
      // A redirection: drop it and its target (`> file`, `2>&1`).
      if (word !== undefined && /^\d$/.test(word)) word = undefined;
      endWord();
      if (next === '&') index += 2;
      else {
        while (block[index + 1] === ' ') index++;
        while (index + 1 < block.length && !/[\s;&|]/.test(block[index + 1] as string)) index++;
      }
    } else if (character === ' ' || character === '\t') {
      endWord();
    } else if (character === '$') {
      const match = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/.exec(block.slice(index));
      word = (word ?? '') + (match ? (variables[match[1] ?? ''] ?? '') : '$');
      index += (match?.[0].length ?? 1) - 1;
    } else {
      word = (word ?? '') + character;
    }
  }
  endCommand(block.length);
  return commands;
}

/** Every simple command of README.md and docs/*.md, with where it came from. */
function documentedCommands(): Array<ShellCommand & { file: string }> {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];
  const found: Array<ShellCommand & { file: string }> = [];
  for (const file of files) {
    for (const block of bashBlocks(readFileSync(join(root, file), 'utf8'))) {
      const variables: Record<string, string> = { AURORA_SWARM_PROXY_TOKEN: 'docs-token' };
      for (const command of parseShell(block, variables)) {
        if (command.words[0] === 'export') {
          for (const assignment of command.words.slice(1)) {
            const [name, ...value] = assignment.split('=');
            variables[name ?? ''] = value.join('=');
          }
          continue;
        }
        found.push({ ...command, file });
      }
    }
  }
  return found;
}

/** The program (or the standalone proxy) with every action replaced by a no-op. */
function parseOnly(bin: string): {
  command: Command;
  outcome: CliOutcome;
  io: ReturnType<typeof scriptedIo>;
} {
  const io = scriptedIo();
  const outcome: CliOutcome = { exitCode: 0 };
  const command =
    bin === 'aurora-swarm'
      ? createProgram(io.io, outcome)
      : createProxyCommand(io.io, outcome, 'aurora-swarm-proxy');
  const silence = (current: Command) => {
    current.action(() => undefined);
    for (const sub of current.commands) silence(sub);
  };
  if (bin === 'aurora-swarm') for (const sub of command.commands) silence(sub);
  else silence(command);
  return { command, outcome, io };
}

describe('commands in README.md and docs/', () => {
  const commands = documentedCommands();

  test('there are commands to check, and every program is checked or excluded with a reason', () => {
    assert.ok(commands.length > 30, `${commands.length} commands found`);
    const checked = new Set(['aurora-swarm', 'aurora-swarm-proxy', 'npx', 'nohup', 'curl', 'node']);
    for (const { words, file, text } of commands) {
      const program = words[0] ?? '';
      assert.ok(
        checked.has(program) || program in EXCLUDED,
        `${file}: "${text}" runs ${program}, which is neither checked nor excluded`,
      );
    }
  });

  test('every aurora-swarm / aurora-swarm-proxy invocation parses against the real CLI', async () => {
    let parsed = 0;
    for (const { words, file, text } of commands) {
      let argv = words;
      if (argv[0] === 'nohup' || argv[0] === 'npx') argv = argv.slice(1);
      const bin = argv[0];
      if (bin !== 'aurora-swarm' && bin !== 'aurora-swarm-proxy') continue;
      const { command, outcome, io } = parseOnly(bin);
      const exitCode = await parseAndRun(command, argv.slice(1), outcome);
      assert.equal(exitCode, 0, `${file}: "${text}" does not parse: ${io.stderr()}`);
      parsed++;
    }
    assert.ok(parsed >= 20, `${parsed} invocations parsed`);
  });

  test('every node command names a built example', () => {
    for (const { words, file, text } of commands) {
      if (words[0] !== 'node') continue;
      const script = words[1] ?? '';
      assert.match(script, /^dist\/examples\/[\w-]+\.js$/, `${file}: "${text}"`);
      assert.ok(existsSync(join(root, script)), `${file}: "${text}": ${script} is not built`);
    }
  });

  test('every curl command succeeds against a real proxy in front of simulated agents', {
    timeout: 60_000,
  }, async (t) => {
    // Tagged like the docs' examples (X-Agent-Tag: role=worker), and serving the model
    // names they use, as `vllm serve --served-model-name` would.
    const swarm = await startMockSwarm({
      count: 4,
      tags: () => ({ role: 'worker' }),
      behavior: { servedModelNames: ['meta-llama/Llama-3.1-70B-Instruct', 'my-model'] },
    });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    let ran = 0;
    for (const { words, file, text } of commands) {
      if (words[0] !== 'curl') continue;
      const args = words
        .slice(1)
        .map((word) => word.replace(/^http:\/\/localhost:9090/, proxy.url));
      assert.ok(
        args.some((word) => word.startsWith(proxy.url)),
        `${file}: "${text}" does not address localhost:9090`,
      );
      const { stdout } = await execFileAsync('curl', [
        '--silent',
        '--show-error',
        '--fail',
        '--max-time',
        '20',
        ...args,
      ]).catch((error: Error) => {
        throw new Error(`${file}: "${text}" failed: ${error.message}`);
      });
      assert.ok(stdout.length > 0, `${file}: "${text}" printed nothing`);
      ran++;
    }
    assert.ok(ran >= 8, `${ran} curl commands ran`);
  });

  test("the README's TypeScript is examples/proxy-quickstart.ts verbatim, and it runs through the proxy", {
    timeout: 60_000,
  }, async (t) => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const snippets = [...readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((match) => match[1]);
    assert.equal(snippets.length, 1);
    const example = readFileSync(join(root, 'examples/proxy-quickstart.ts'), 'utf8');
    assert.equal(snippets[0], example.replace("from '../src/index.js'", "from 'aurora-swarm'"));

    const swarm = await startMockSwarm({ count: 4 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const directory = temporaryDirectory(t);
    writeFileSync(join(directory, 'hostfile.txt'), swarm.hostfileText);
    const { stdout } = await execFileAsync(
      process.execPath,
      [join(root, 'dist/examples/proxy-quickstart.js')],
      {
        cwd: directory,
        env: { ...process.env, AURORA_SWARM_PROXY_URL: proxy.url },
      },
    );
    for (let index = 0; index < 4; index++) {
      assert.match(
        stdout,
        new RegExp(`--- Prompt ${index} \\(agent ${index}\\) ---\\nAgent ${index} .* \\.\\.\\.\\n`),
      );
    }
    assert.equal(swarm.agents.reduce((total, agent) => total + agent.stats.requests, 0) >= 4, true);
  });
});
