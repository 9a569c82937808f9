/**
 * Port of the Python original's getting_started/create_vllm_pool.py: parse a hostfile, build a
 * VLLMPool, and list each agent's models through its own OpenAI client — here the official
 * `openai` npm client built from `pool.openaiConfig(i)` (Python: `pool._openai_clients[i]`),
 * which also goes through the proxy, with its token, when AURORA_SWARM_PROXY_URL is set.
 *
 *   node dist/examples/create-vllm-pool.js [HOSTFILE]   (or --hostfile HOSTFILE)
 */
import OpenAI from 'openai';
import { exampleCommandLine, openExampleSwarm } from './example-swarm.js';

const positional = exampleCommandLine(
  'Port of getting_started/create_vllm_pool.py: build a VLLMPool from HOSTFILE and list the models of each agent with the official OpenAI client (pool.openaiConfig(i)).',
  {},
  process.argv.slice(2),
  'HOSTFILE',
);

const swarm = await openExampleSwarm({ mockAgents: 3, hostfile: positional });
try {
  const pool = swarm.pool;
  console.log(`VLLMPool created: ${pool.size} agent(s) (${swarm.origin})`);
  for (let index = 0; index < pool.size; index++) {
    const url = pool.endpoints[index]!.url;
    console.log(`  [${index}] ${url}`);
    const client = new OpenAI({ apiKey: 'EMPTY', maxRetries: 0, ...pool.openaiConfig(index) });
    try {
      const models = (await client.models.list()).data.map((model) => model.id);
      console.log(
        `  client_index=${index} ${url}/v1/models -> ${models.length} model(s): ${JSON.stringify(models)}`,
      );
    } catch (error) {
      console.log(`  client_index=${index} ${url}/v1/models -> error: ${(error as Error).message}`);
    }
  }
  console.log();
} finally {
  await swarm.close();
}
