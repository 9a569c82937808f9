import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parseHostfile } from '../../hostfile/parse-hostfile.js';
import { type MockSwarm, startMockSwarm } from '../../mock/mock-swarm.js';
import { scatterGather } from '../../patterns/scatter-gather.js';
import { VLLMPool } from '../../pool/vllm-pool.js';
import { DEFAULT_PROXY_PORT } from '../../proxy/proxy-options.js';
import { portArgument, positiveIntegerArgument, runAction } from '../cli-errors.js';
import { type CliIo, type CliOutcome, EXIT_FAILURE, EXIT_INTERRUPTED } from '../cli-io.js';
import { cliStyle } from '../cli-style.js';
import { configureCommand } from '../configure-command.js';
import { type ProxyProcess, spawnProxyProcess } from '../proxy-process.js';
import { ShutdownSignals } from '../shutdown-signals.js';
import { describePorts } from './mock-agents-command.js';

/** The usage guide's model, which the simulated agents serve by default. */
const DEMO_MODEL = 'meta-llama/Llama-3.1-70B-Instruct';

/** The four prompts of the usage guide's complete example (Step 5). */
export const DEMO_PROMPTS: readonly string[] = [
  'What is the function of the lacZ gene in E. coli?',
  'Describe the role of sigma factor in bacterial transcription.',
  'What are the key virulence factors of Salmonella?',
  'Explain the SOS response in bacteria.',
];

interface DemoFlags {
  count: number;
  port: number;
  keep?: boolean;
}

const HELP_AFTER = `
What it does, in order:
  1. starts --count simulated vLLM agents on free ports and writes their hostfile to a
     temporary directory;
  2. starts the real proxy (aurora-swarm-proxy) in front of them on 127.0.0.1;
  3. runs the usage guide's complete example through the proxy: VLLMPool with proxyUrl,
     scatterGather of four biology prompts, each answer printed with its agent;
  4. stops everything and exits 0 (1 if a prompt failed); with --keep, leaves the agents
     and the proxy running until Ctrl-C, so the printed commands can be tried against them.
It prints the commands that repeat each step by hand. The proxy's log lines are held back
while the answers print, then shown.

Examples:
  $ npm start                      # the same as: aurora-swarm demo
  $ aurora-swarm demo --count 8 --port 9090
  $ aurora-swarm demo --keep       # then, in another terminal, the commands it prints

Documentation: docs/cli.md, docs/proxy.md`;

/** The commands that repeat the demo by hand, with the demo's own count and port. */
export function handCommands(count: number, port: number): string {
  const proxy = `http://localhost:${port}`;
  return [
    'To repeat each step by hand (see docs/proxy.md and docs/cli.md), in separate terminals:',
    `  aurora-swarm mock-agents --count ${count} --base-port 8000 --hostfile hostfile.txt`,
    `  aurora-swarm-proxy --hostfile hostfile.txt --host 127.0.0.1 --port ${port}`,
    `  curl ${proxy}/health`,
    `  curl ${proxy}/status`,
    `  aurora-swarm status --proxy ${proxy}`,
    `  AURORA_SWARM_PROXY_URL=${proxy} node dist/examples/broadcast-majority-vote.js --hostfile hostfile.txt`,
    `  aurora-swarm run --hostfile hostfile.txt --proxy ${proxy} --prompts examples/data/prompts.txt --out results.jsonl`,
    '',
  ].join('\n');
}

/** With --keep: the same commands, against the swarm and proxy this demo leaves running. */
export function keepCommands(hostfile: string, proxyUrl: string): string {
  return [
    'The simulated agents and the proxy keep running; Ctrl-C stops them. Try, in another terminal:',
    `  curl ${proxyUrl}/health`,
    `  curl ${proxyUrl}/agent/0/v1/models`,
    `  aurora-swarm status --proxy ${proxyUrl}`,
    `  AURORA_SWARM_PROXY_URL=${proxyUrl} node dist/examples/broadcast-majority-vote.js --hostfile ${hostfile}`,
    `  aurora-swarm run --proxy ${proxyUrl} --prompts examples/data/prompts.txt --out results.jsonl`,
    `  open ${proxyUrl}/ in a browser for the status page`,
    '',
  ].join('\n');
}

/** The seed's Step 5, printed as the seed prints it. Returns whether every prompt succeeded. */
async function runExample(
  hostfile: string,
  proxyUrl: string,
  io: CliIo,
  signal: AbortSignal,
): Promise<boolean> {
  const endpoints = parseHostfile(hostfile);
  await using pool = new VLLMPool({
    endpoints,
    model: DEMO_MODEL,
    proxyUrl,
    maxTokens: 512,
  });
  const responses = await scatterGather(pool, [...DEMO_PROMPTS], { signal });
  responses.forEach((response, index) => {
    io.stdout(`--- Prompt ${index} (agent ${response.agentIndex}) ---\n`);
    if (response.success) io.stdout(`${response.text.slice(0, 200)} ...\n`);
    else io.stdout(`Error: ${response.error}\n`);
  });
  return responses.every((response) => response.success);
}

async function runDemo(flags: DemoFlags, io: CliIo): Promise<number> {
  const style = cliStyle(io, 'stdout');
  const signals = new ShutdownSignals(io);
  const interrupt = new AbortController();
  signals.handle({ first: () => interrupt.abort() });
  const directory = await mkdtemp(join(tmpdir(), 'aurora-swarm-demo-'));
  let swarm: MockSwarm | undefined;
  let proxy: ProxyProcess | undefined;
  // The proxy logs on stderr while the answers print on stdout: on a terminal the two would
  // interleave, so its lines are held back while the example runs and shown after it.
  let held: string[] | undefined;
  const proxyLine = (line: string) => {
    if (held) held.push(line);
    else io.stderr(`${line}\n`);
  };
  try {
    swarm = await startMockSwarm({ count: flags.count, behavior: { model: DEMO_MODEL } });
    const hostfile = join(directory, 'hostfile.txt');
    await swarm.writeHostfile(hostfile);
    io.stdout(
      `${style.bold('aurora-swarm demo')}: ${flags.count} simulated vLLM agent(s) listening on ${describePorts(
        '127.0.0.1',
        swarm.agents.map((agent) => agent.port),
      )}\n` + `  hostfile: ${hostfile}\n`,
    );
    proxy = await spawnProxyProcess(
      ['--hostfile', hostfile, '--host', '127.0.0.1', '--port', String(flags.port)],
      io.env,
      proxyLine,
    );
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    const hints = flags.keep
      ? ''
      : `\n${handCommands(flags.count, flags.port || DEFAULT_PROXY_PORT)}`;
    io.stdout(
      `  proxy:    ${proxyUrl} (aurora-swarm-proxy, process ${proxy.child.pid})\n${hints}\n` +
        `${style.bold("The usage guide's complete example")} (VLLMPool with proxyUrl ${proxyUrl}, scatterGather):\n\n`,
    );
    if (interrupt.signal.aborted) return EXIT_INTERRUPTED;
    held = [];
    let succeeded: boolean;
    try {
      succeeded = await runExample(hostfile, proxyUrl, io, interrupt.signal);
    } finally {
      const lines = held;
      held = undefined;
      for (const line of lines) io.stderr(`${line}\n`);
    }
    if (interrupt.signal.aborted) return EXIT_INTERRUPTED;
    if (!succeeded) {
      io.stdout(`\n${style.red('Demo failed')}: some prompts got no answer (see above).\n`);
      return EXIT_FAILURE;
    }
    if (!flags.keep) {
      io.stdout(`\n${style.green('Demo finished')}: 4 answers through the proxy. Shutting down.\n`);
      return 0;
    }
    io.stdout(
      `\n${style.green('Demo finished')}: 4 answers through the proxy.\n\n${keepCommands(hostfile, proxyUrl)}`,
    );
    await signals.received;
    io.stdout('Shutting down.\n');
    return 0;
  } finally {
    signals.dispose();
    await proxy?.stop();
    await swarm?.close();
    await rm(directory, { recursive: true, force: true });
  }
}

/** `aurora-swarm demo`: simulated agents, the real proxy, and the usage guide's example. */
export function createDemoCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = new Command('demo')
    .description(
      "start simulated agents and the proxy, run the usage guide's scatter-gather example through it, stop",
    )
    .addOption(
      new Option('-n, --count <number>', 'number of simulated agents')
        .argParser(positiveIntegerArgument)
        .default(4),
    )
    .addOption(
      new Option('-p, --port <port>', 'port of the proxy (0: a free port)')
        .argParser(portArgument)
        .default(0),
    )
    .option('--keep', 'leave the agents and the proxy running after the example, until Ctrl-C')
    .addHelpText('after', HELP_AFTER);
  command.action((flags: DemoFlags) => runAction(command, io, outcome, () => runDemo(flags, io)));
  return configureCommand(command, io);
}
