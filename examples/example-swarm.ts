/**
 * Shared start-up of the examples: connect to the swarm named by `--hostfile <path>` (or the
 * `AURORA_SWARM_HOSTFILE` environment variable), or, when neither is given, start a small
 * simulated swarm in this process so an example runs out of the box.
 *
 * Against a real or `aurora-swarm mock-agents` swarm:
 *   node dist/examples/broadcast-majority-vote.js --hostfile hostfile.txt [--model NAME]
 * Through the proxy, also set AURORA_SWARM_PROXY_URL=http://localhost:9090.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type AgentEndpoint,
  EmbeddingPool,
  type MockAgentBehavior,
  parseHostfile,
  type SimulatedAgent,
  startMockSwarm,
  VLLMPool,
  type VLLMPoolOptions,
} from '../src/index.js';

/** The kind of value an example's flag takes. */
/**
 * `number`: a positive number; `count`: an integer ≥ 0 (an index, a number to skip);
 * `strings`: a string that may be given several times (read with `argumentValues`).
 */
export type ExampleFlagKind = 'string' | 'strings' | 'number' | 'count' | 'boolean';

/**
 * The command line of an example, checked before anything starts: `--help` prints the usage
 * and exits 0; an unknown flag or a bad value prints one line and exits 2; any error later
 * prints one line (`name: error: ...`) and exits 1, never a stack trace (set
 * AURORA_SWARM_DEBUG=1 to see it). Every example takes `--hostfile` and `--model` besides its own.
 * Returns the positional argument, when the example takes one and it was given.
 */
export function exampleCommandLine(
  description: string,
  flags: Readonly<Record<string, ExampleFlagKind>> = {},
  argv: readonly string[] = process.argv.slice(2),
  /** The one optional positional argument the example takes (e.g. `INPUT_DIR`), if any. */
  positional?: string,
): string | undefined {
  const name = basename(process.argv[1] ?? 'example', '.js');
  const fail = (message: string, exitCode: number): never => {
    process.stderr.write(`${name}: error: ${message}\n`);
    process.exit(exitCode);
  };
  const onError = (error: unknown) => {
    if (process.env.AURORA_SWARM_DEBUG && error instanceof Error) console.error(error.stack);
    fail(error instanceof Error ? error.message.replace(/\s*\n\s*/g, ' ') : String(error), 1);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  const all: Record<string, ExampleFlagKind> = {
    '--hostfile': 'string',
    '--model': 'string',
    ...flags,
  };
  const options = Object.fromEntries(
    Object.entries(all).map(([flag, kind]) => [
      flag.slice(2),
      {
        type: kind === 'boolean' ? ('boolean' as const) : ('string' as const),
        multiple: kind === 'strings',
      },
    ]),
  );
  const usage = `Usage: node dist/examples/${name}.js ${Object.entries(all)
    .map(([flag, kind]) =>
      kind === 'boolean'
        ? `[${flag}]`
        : kind === 'strings'
          ? `[${flag} VALUE]...`
          : `[${flag} ${kind === 'string' ? 'VALUE' : 'N'}]`,
    )
    .join(
      ' ',
    )}${positional === undefined ? '' : ` [${positional}]`}\n\n${description}\n\nWithout --hostfile (or AURORA_SWARM_HOSTFILE) it starts a small simulated swarm; set AURORA_SWARM_PROXY_URL to go through a proxy.\n`;
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: positional !== undefined,
    }));
  } catch (error) {
    // parseArgs adds a hint about '--' to unknown options when positionals are allowed.
    const reason = (error as Error).message.split('\n')[0]?.split('. To specify a positional')[0];
    return fail(`${reason} (see --help)`, 2);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  if (positionals.length > 1) {
    fail(`one ${positional} at most, got ${positionals.length} arguments (see --help)`, 2);
  }
  for (const [flag, kind] of Object.entries(all)) {
    const value = values[flag.slice(2)];
    if (kind === 'number' && value !== undefined) {
      const number = Number(value);
      if (
        typeof value !== 'string' ||
        value.trim() === '' ||
        !Number.isFinite(number) ||
        number <= 0
      ) {
        fail(`${flag} expects a positive number, got ${JSON.stringify(value)} (see --help)`, 2);
      }
    }
    if (kind === 'count' && value !== undefined && !/^\d+$/.test(String(value))) {
      fail(
        `${flag} expects a whole number (0 or more), got ${JSON.stringify(value)} (see --help)`,
        2,
      );
    }
  }
  return positionals[0];
}

/**
 * A progress line on stderr, `[YYYY-MM-DD HH:MM:SS] message`: the Python examples'
 * `print_with_timestamp`, so a port logs as its original.
 */
export function logWithTimestamp(message: string): void {
  const now = new Date();
  const pad = (value: number) => String(value).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  process.stderr.write(`[${stamp}] ${message}\n`);
}

/** A bad flag value the example checks itself: one line `name: error: message (see --help)`, exit 2. */
export function exampleUsageError(message: string): never {
  const name = basename(process.argv[1] ?? 'example', '.js');
  process.stderr.write(`${name}: error: ${message} (see --help)\n`);
  process.exit(2);
}

/**
 * Genes of E. coli K-12 in the TSV format of the COLI chunk files
 * (`genome_id<TAB>organism<TAB>gene_id<TAB>description`), for the COLI ports without INPUT_DIR.
 */
export const BUILT_IN_COLI_GENES: readonly string[] = [
  '511145.12\tEscherichia coli K-12\tb0002\tthrA bifunctional aspartokinase/homoserine dehydrogenase',
  '511145.12\tEscherichia coli K-12\tb0003\tthrB homoserine kinase',
  '511145.12\tEscherichia coli K-12\tb0004\tthrC threonine synthase',
  '511145.12\tEscherichia coli K-12\tb0014\tdnaK chaperone protein',
  '511145.12\tEscherichia coli K-12\tb0015\tdnaJ chaperone protein',
];

/** The value of `--name value` or `--name=value` in `argv`. */
export function argumentValue(
  name: string,
  argv: readonly string[] = process.argv.slice(2),
): string | undefined {
  const index = argv.indexOf(name);
  if (index >= 0) return argv[index + 1];
  const prefix = `${name}=`;
  return argv.find((argument) => argument.startsWith(prefix))?.slice(prefix.length);
}

/** Every value of a flag given several times (`--name a --name b` or `--name=a`), in order. */
export function argumentValues(
  name: string,
  argv: readonly string[] = process.argv.slice(2),
): string[] {
  const values: string[] = [];
  argv.forEach((argument, index) => {
    if (argument === name && argv[index + 1] !== undefined) values.push(argv[index + 1]!);
    else if (argument.startsWith(`${name}=`)) values.push(argument.slice(name.length + 1));
  });
  return values;
}

/** How to start the simulated swarm when no hostfile is given. */
export interface ExampleSwarmOptions {
  /** Number of simulated agents. */
  mockAgents: number;
  /** Hostfile tags of simulated agent i (e.g. `{ role: 'critiques' }`). */
  tags?: (index: number) => Record<string, string>;
  /** What simulated agent i answers to a prompt. */
  reply?: MockAgentBehavior['reply'];
  /** How simulated agent i differs from the others (e.g. an embedding model on some). */
  perAgent?: (index: number) => Partial<MockAgentBehavior> | undefined;
  /** A hostfile named another way than `--hostfile` (the positional argument of a port). */
  hostfile?: string | undefined;
  /** More options of the swarm's `VLLMPool` (`maxTokens`, `batch`, `timeoutMs`, …). */
  pool?: Omit<VLLMPoolOptions, 'endpoints' | 'model' | 'proxyUrl'>;
}

/** A connected swarm. */
export interface ExampleSwarm {
  /** Chat-completions pool over every agent. */
  pool: VLLMPool;
  /** The agents. */
  endpoints: readonly AgentEndpoint[];
  /** Where the agents came from, for the example's first line of output. */
  origin: string;
  /** The `proxyUrl` option the pools use (`null` for a simulated swarm: never through a proxy). */
  proxyUrl: string | null | undefined;
  /** The simulated agents, when the example started them (to show what they received). */
  agents: readonly SimulatedAgent[] | undefined;
  /** An embedding pool over the same agents (created on first use). */
  embeddingPool(): EmbeddingPool;
  /** Close the pools, and the simulated swarm if this process started one. */
  close(): Promise<void>;
}

/** Connect to the hostfile's swarm, or start a simulated one. */
export async function openExampleSwarm(options: ExampleSwarmOptions): Promise<ExampleSwarm> {
  const hostfile =
    options.hostfile ??
    argumentValue('--hostfile') ??
    (process.env.AURORA_SWARM_HOSTFILE || undefined);
  const model = argumentValue('--model') ?? (process.env.AURORA_SWARM_MODEL || undefined);
  let endpoints: readonly AgentEndpoint[];
  let origin: string;
  let stopSwarm = async (): Promise<void> => undefined;
  let proxyUrl: string | null | undefined;
  let agents: readonly SimulatedAgent[] | undefined;
  if (hostfile) {
    endpoints = parseHostfile(hostfile);
    origin = `${endpoints.length} agent(s) from ${hostfile}`;
  } else {
    const swarm = await startMockSwarm({
      count: options.mockAgents,
      tags: options.tags,
      behavior: { reply: options.reply },
      perAgent: options.perAgent,
    });
    endpoints = swarm.endpoints;
    agents = swarm.agents;
    origin = `${endpoints.length} simulated agent(s) started by this example (pass --hostfile to use yours)`;
    stopSwarm = () => swarm.close();
    proxyUrl = null; // the simulated agents are local: never route them through a proxy
  }
  const pool = new VLLMPool({ ...options.pool, endpoints, model, proxyUrl });
  let embeddings: EmbeddingPool | undefined;
  return {
    pool,
    endpoints,
    origin,
    proxyUrl,
    agents,
    embeddingPool: () => {
      embeddings ??= new EmbeddingPool({ endpoints, proxyUrl });
      return embeddings;
    },
    close: async () => {
      await pool.close();
      await embeddings?.close();
      await stopSwarm();
    },
  };
}
