import { Command, InvalidArgumentError, Option } from 'commander';
import { describeFileError } from '../../internal/describe-file-error.js';
import {
  DEFAULT_MOCK_BEHAVIOR,
  MOCK_FAILURES,
  MOCK_REASONING,
  MOCK_TASKS,
  type MockFailure,
  type MockReasoning,
  type MockTask,
  VLLM_DIALECTS,
  type VllmDialect,
} from '../../mock/mock-behavior.js';
import { type MockSwarm, startMockSwarm } from '../../mock/mock-swarm.js';
import {
  CliError,
  fractionArgument,
  nonNegativeIntegerArgument,
  nonNegativeNumberArgument,
  portArgument,
  positiveIntegerArgument,
  runAction,
  usageError,
} from '../cli-errors.js';
import type { CliIo, CliOutcome } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';
import { hostfileOutputProblem } from '../hostfile-output.js';
import { ShutdownSignals } from '../shutdown-signals.js';

/** Number of simulated agents when `--count` is not given. */
export const DEFAULT_MOCK_AGENT_COUNT = 4;

/** Flag values after commander's parsing. */
interface MockAgentsFlags {
  count: number;
  basePort: number;
  host: string;
  hostfile?: string;
  model: string;
  maxModelLen: number;
  latencyMs: number;
  tokenIntervalMs: number;
  completionTokens?: number;
  failure: MockFailure;
  failureRate: number;
  failureStatus: number;
  embeddingDimensions: number;
  vllmVersion: VllmDialect;
  task: MockTask;
  reasoning: MockReasoning;
  servedModelName?: string[];
  anyModel?: boolean;
  maxNumSeqs: number;
  tags?: Array<Record<string, string>>;
}

const HELP_AFTER = `
Every agent answers like vLLM (current by default, --vllm-version legacy for <= 0.10.0):
GET /health, /ping, /version, /load, /metrics, /v1/models; POST /v1/chat/completions and
/v1/completions (streamed or not), /v1/embeddings, /tokenize, /detokenize, /generate.
Replies name the agent and echo the prompt's start. They run until Ctrl-C (SIGINT) or
SIGTERM. docs/mock-agents.md lists what each route follows in vLLM's code.

Examples:
  $ aurora-swarm mock-agents --count 4 --base-port 8000 --hostfile hostfile.txt
  $ aurora-swarm mock-agents --count 100 --hostfile hostfile.txt --latency-ms 200 --token-interval-ms 20
  $ aurora-swarm mock-agents --count 8 --hostfile hostfile.txt --failure status --failure-rate 0.1
  $ aurora-swarm mock-agents --count 2 > hostfile.txt     # hostfile on stdout, free ports
  $ aurora-swarm mock-agents --count 4 --hostfile hostfile.txt --task embed --model intfloat/e5-mistral-7b-instruct
  $ aurora-swarm mock-agents --count 4 --hostfile hostfile.txt --reasoning --vllm-version legacy
  $ aurora-swarm mock-agents --count 4 --hostfile hostfile.txt --tags role=hypotheses,role=critiques
  $ aurora-swarm mock-agents --count 3 --hostfile hostfile.txt --tags role=lead+zone=a,role=worker,role=worker

Documentation: docs/cli.md`;

/**
 * Commander argument parser of `--tags`: comma-separated tag sets given to the agents in turn
 * (agent i gets set i mod the number of sets); a set is `key=value`, or several joined by `+`.
 */
export function tagSetsArgument(value: string): Array<Record<string, string>> {
  return value.split(',').map((set) => {
    const tags: Record<string, string> = {};
    for (const pair of set.split('+')) {
      const equals = pair.indexOf('=');
      const key = pair.slice(0, equals).trim();
      if (equals <= 0 || key === '' || /\s/.test(pair)) {
        throw new InvalidArgumentError(
          `expected key=value tags, sets separated by "," and tags within a set by "+" (e.g. role=hypotheses,role=critiques), got "${pair}".`,
        );
      }
      tags[key] = pair.slice(equals + 1);
    }
    return tags;
  });
}

/** `listening on 127.0.0.1:8000-8003`, or the ports one by one when they are not consecutive. */
export function describePorts(host: string, ports: readonly number[]): string {
  const first = ports[0];
  const last = ports.at(-1);
  if (first === undefined || last === undefined) return host;
  const consecutive = ports.every((port, index) => port === first + index);
  if (ports.length === 1) return `${host}:${first}`;
  if (consecutive) return `${host}:${first}-${last}`;
  return `${host}:${ports.join(',')}`;
}

async function runMockAgents(flags: MockAgentsFlags, io: CliIo): Promise<number> {
  if (flags.basePort > 0 && flags.basePort + flags.count - 1 > 65_535) {
    throw usageError(
      `--base-port ${flags.basePort} leaves no room for ${flags.count} agents (the last would listen on port ${flags.basePort + flags.count - 1}): at most ${65_536 - flags.count}, or 0 for free ports`,
    );
  }
  if (flags.hostfile !== undefined) {
    // Checked before any port is opened: a typo in the path is exit 2, nothing started.
    const problem = await hostfileOutputProblem(flags.hostfile, '--hostfile');
    if (problem !== undefined) {
      throw usageError(`cannot write hostfile ${flags.hostfile}: ${problem}`);
    }
  }
  const signals = new ShutdownSignals(io);
  let swarm: MockSwarm | undefined;
  try {
    try {
      const tagSets = flags.tags;
      swarm = await startMockSwarm({
        count: flags.count,
        host: flags.host,
        ...(tagSets === undefined ? {} : { tags: (index) => tagSets[index % tagSets.length] }),
        basePort: flags.basePort,
        recordLimit: 0,
        behavior: {
          model: flags.model,
          maxModelLen: flags.maxModelLen,
          latencyMs: flags.latencyMs,
          tokenIntervalMs: flags.tokenIntervalMs,
          completionTokens: flags.completionTokens,
          failure: flags.failure,
          failureRate: flags.failureRate,
          failureStatus: flags.failureStatus,
          embeddingDimensions: flags.embeddingDimensions,
          vllmVersion: flags.vllmVersion,
          task: flags.task,
          reasoning: flags.reasoning,
          servedModelNames: flags.servedModelName,
          strictModel: flags.anyModel !== true,
          maxNumSeqs: flags.maxNumSeqs,
        },
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new CliError(
          `cannot listen on ${flags.host}: a port from ${flags.basePort} to ${flags.basePort + flags.count - 1} is already in use (choose another --base-port, or 0 for free ports)`,
        );
      }
      if (code === 'EADDRNOTAVAIL') {
        throw new CliError(
          `cannot listen on ${flags.host}: not an address of this machine (--host)`,
        );
      }
      throw error;
    }
    const ports = swarm.agents.map((agent) => agent.port);
    if (flags.hostfile === undefined) {
      io.stdout(swarm.hostfileText);
    } else {
      try {
        await swarm.writeHostfile(flags.hostfile);
      } catch (error) {
        throw new CliError(`cannot write hostfile ${flags.hostfile}: ${describeFileError(error)}`);
      }
    }
    io.stderr(
      `aurora-swarm mock-agents: ${flags.count} simulated vLLM agent(s) serving ${flags.model} listening on ${describePorts(flags.host, ports)}; hostfile ${flags.hostfile === undefined ? 'on stdout' : `written to ${flags.hostfile}`}. Ctrl-C stops them.\n`,
    );
    const running = swarm;
    await signals.received;
    const served = running.agents.reduce((total, agent) => total + agent.stats.requests, 0);
    await running.close();
    io.stderr(`aurora-swarm mock-agents: stopped after ${served} request(s)\n`);
    return 0;
  } finally {
    signals.dispose();
    await swarm?.close();
  }
}

/** `aurora-swarm mock-agents`: a simulated vLLM swarm until SIGINT/SIGTERM. */
export function createMockAgentsCommand(io: CliIo, outcome: CliOutcome): Command {
  const defaults = DEFAULT_MOCK_BEHAVIOR;
  const command = new Command('mock-agents')
    .description('run simulated vLLM agents (many ports, one process) and write their hostfile')
    .addOption(
      new Option('-n, --count <number>', 'number of agents')
        .argParser(positiveIntegerArgument)
        .default(DEFAULT_MOCK_AGENT_COUNT),
    )
    .addOption(
      new Option(
        '--base-port <port>',
        'port of agent 0; agent i listens on base-port + i (0: a free port for each)',
      )
        .argParser(portArgument)
        .default(0),
    )
    .option('--host <address>', 'address the agents listen on', '127.0.0.1')
    .option('-f, --hostfile <path>', 'write the hostfile here (default: print it on stdout)')
    .option('--model <name>', 'model id the agents serve', defaults.model)
    .addOption(
      new Option('--max-model-len <tokens>', 'context length reported and enforced')
        .argParser(positiveIntegerArgument)
        .default(defaults.maxModelLen),
    )
    .addOption(
      new Option('--latency-ms <ms>', 'delay before response headers, in milliseconds')
        .argParser(nonNegativeNumberArgument)
        .default(defaults.latencyMs),
    )
    .addOption(
      new Option('--token-interval-ms <ms>', 'delay between generated tokens, in milliseconds')
        .argParser(nonNegativeNumberArgument)
        .default(defaults.tokenIntervalMs),
    )
    .addOption(
      new Option(
        '--completion-tokens <count>',
        'pad or cut every reply to this many tokens (default: replies as written)',
      ).argParser(nonNegativeIntegerArgument),
    )
    .addOption(
      new Option('--failure <kind>', 'injected failure')
        .choices([...MOCK_FAILURES])
        .default(defaults.failure),
    )
    .addOption(
      new Option('--failure-rate <fraction>', 'probability that a request gets the failure')
        .argParser(fractionArgument)
        .default(defaults.failureRate),
    )
    .addOption(
      new Option('--failure-status <status>', 'HTTP status of --failure status')
        .argParser(positiveIntegerArgument)
        .default(defaults.failureStatus),
    )
    .addOption(
      new Option('--embedding-dimensions <count>', 'length of /v1/embeddings vectors')
        .argParser(positiveIntegerArgument)
        .default(defaults.embeddingDimensions),
    )
    .addOption(
      new Option('--vllm-version <version>', 'which vLLM to answer like (legacy: <= 0.10.0)')
        .choices([...VLLM_DIALECTS])
        .default(defaults.vllmVersion),
    )
    .addOption(
      new Option('--task <task>', 'routes served: generate (chat, completions), embed, or both')
        .choices([...MOCK_TASKS])
        .default(defaults.task),
    )
    .addOption(
      new Option('--reasoning [mode]', 'reasoning-model replies: on, or only (content: null)')
        .choices([...MOCK_REASONING])
        .preset('on')
        .default(defaults.reasoning),
    )
    .option(
      '--served-model-name <names...>',
      'names the agents answer to, the first one reported (default: --model)',
    )
    .option('--any-model', 'accept any model name instead of answering 404 like vLLM')
    .addOption(
      new Option('--max-num-seqs <count>', 'generations served at once per agent; more wait')
        .argParser(positiveIntegerArgument)
        .default(defaults.maxNumSeqs),
    )
    .addOption(
      new Option(
        '--tags <sets>',
        'hostfile tags, given to the agents in turn: role=hypotheses,role=critiques (several per agent with +)',
      ).argParser(tagSetsArgument),
    )
    .addHelpText('after', HELP_AFTER);
  command.action((flags: MockAgentsFlags) =>
    runAction(command, io, outcome, () => runMockAgents(flags, io)),
  );
  return configureCommand(command, io);
}
