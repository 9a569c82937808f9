/**
 * Shared start-up of the examples: connect to the swarm named by `--hostfile <path>` (or the
 * `AURORA_SWARM_HOSTFILE` environment variable), or, when neither is given, start a small
 * simulated swarm in this process so an example runs out of the box.
 *
 * Against a real or `aurora-swarm mock-agents` swarm:
 *   node dist/examples/broadcast-majority-vote.js --hostfile hostfile.txt [--model NAME]
 * Through the proxy, also set AURORA_SWARM_PROXY_URL=http://localhost:9090.
 */
import {
  type AgentEndpoint,
  EmbeddingPool,
  type MockAgentBehavior,
  parseHostfile,
  startMockSwarm,
  VLLMPool,
} from '../src/index.js';

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

/** How to start the simulated swarm when no hostfile is given. */
export interface ExampleSwarmOptions {
  /** Number of simulated agents. */
  mockAgents: number;
  /** Hostfile tags of simulated agent i (e.g. `{ role: 'critiques' }`). */
  tags?: (index: number) => Record<string, string>;
  /** What simulated agent i answers to a prompt. */
  reply?: MockAgentBehavior['reply'];
}

/** A connected swarm. */
export interface ExampleSwarm {
  /** Chat-completions pool over every agent. */
  pool: VLLMPool;
  /** The agents. */
  endpoints: readonly AgentEndpoint[];
  /** Where the agents came from, for the example's first line of output. */
  origin: string;
  /** An embedding pool over the same agents (created on first use). */
  embeddingPool(): EmbeddingPool;
  /** Close the pools, and the simulated swarm if this process started one. */
  close(): Promise<void>;
}

/** Connect to the hostfile's swarm, or start a simulated one. */
export async function openExampleSwarm(options: ExampleSwarmOptions): Promise<ExampleSwarm> {
  const hostfile = argumentValue('--hostfile') ?? (process.env.AURORA_SWARM_HOSTFILE || undefined);
  const model = argumentValue('--model') ?? (process.env.AURORA_SWARM_MODEL || undefined);
  let endpoints: readonly AgentEndpoint[];
  let origin: string;
  let stopSwarm = async (): Promise<void> => undefined;
  let proxyUrl: string | null | undefined;
  if (hostfile) {
    endpoints = parseHostfile(hostfile);
    origin = `${endpoints.length} agent(s) from ${hostfile}`;
  } else {
    const swarm = await startMockSwarm({
      count: options.mockAgents,
      tags: options.tags,
      behavior: { reply: options.reply },
    });
    endpoints = swarm.endpoints;
    origin = `${endpoints.length} simulated agent(s) started by this example (pass --hostfile to use yours)`;
    stopSwarm = () => swarm.close();
    proxyUrl = null; // the simulated agents are local: never route them through a proxy
  }
  const pool = new VLLMPool({ endpoints, model, proxyUrl });
  let embeddings: EmbeddingPool | undefined;
  return {
    pool,
    endpoints,
    origin,
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
