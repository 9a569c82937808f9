/**
 * Port of the Python original's getting_started/create_vllm_subpools.py: split a VLLMPool into
 * two halves with `slice()` and query each sub-pool's agents through their own OpenAI clients,
 * numbered within the sub-pool (`subpool.openaiConfig(i)`; Python: `subpool._openai_clients[i]`).
 *
 *   node dist/examples/create-vllm-subpools.js [HOSTFILE]   (or --hostfile HOSTFILE)
 */
import OpenAI from 'openai';
import { exampleCommandLine, openExampleSwarm } from './example-swarm.js';

const positional = exampleCommandLine(
  "Port of getting_started/create_vllm_subpools.py: slice a VLLMPool from HOSTFILE into halves and list each sub-pool agent's models with its OpenAI client (subpool.openaiConfig(i)).",
  {},
  process.argv.slice(2),
  'HOSTFILE',
);

const swarm = await openExampleSwarm({ mockAgents: 4, hostfile: positional });
try {
  const pool = swarm.pool;
  console.log(`parent pool size=${pool.size}`);
  pool.endpoints.forEach((endpoint, index) => {
    console.log(`  parent_index=[${index}] ${endpoint.url}`);
  });
  const middle = Math.floor(pool.size / 2);
  const subpools = [
    ['left', pool.slice(0, middle)],
    ['right', pool.slice(middle, pool.size)],
  ] as const;
  for (const [name, subpool] of subpools) {
    console.log(`\n${name} subpool size=${subpool.size}`);
    for (let index = 0; index < subpool.size; index++) {
      const url = subpool.endpoints[index]!.url;
      // The index in the parent pool, as the Python script prints it.
      const parentIndex = subpool.globalIndices[index];
      const prefix = `  sub_client_index=[${index}] parent_client_index=[${parentIndex}] ${url}/v1/models`;
      const client = new OpenAI({ apiKey: 'EMPTY', maxRetries: 0, ...subpool.openaiConfig(index) });
      try {
        const models = (await client.models.list()).data.map((model) => model.id);
        console.log(`${prefix} -> ${JSON.stringify(models)}`);
      } catch (error) {
        console.log(`${prefix} -> error: ${(error as Error).message}`);
      }
    }
  }
} finally {
  await swarm.close();
}
