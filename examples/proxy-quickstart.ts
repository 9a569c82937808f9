import { parseHostfile, scatterGather, VLLMPool } from '../src/index.js';

if (process.argv.length > 2) {
  console.log('Usage: node dist/examples/proxy-quickstart.js  (reads ./hostfile.txt; the proxy');
  console.log(
    'is AURORA_SWARM_PROXY_URL, else http://localhost:9090; this example takes no flags)',
  );
  process.exit(['--help', '-h'].includes(process.argv[2] ?? '') ? 0 : 2);
}

async function main(): Promise<void> {
  // The same hostfile as the proxy's (copy it to your laptop, or create a matching one).
  const endpoints = parseHostfile('hostfile.txt');

  // Every request goes to {proxyUrl}/agent/{index}/... through the one SSH tunnel.
  await using pool = new VLLMPool({
    endpoints,
    model: 'meta-llama/Llama-3.1-70B-Instruct',
    proxyUrl: process.env.AURORA_SWARM_PROXY_URL ?? 'http://localhost:9090',
    maxTokens: 512,
  });

  const prompts = [
    'What is the function of the lacZ gene in E. coli?',
    'Describe the role of sigma factor in bacterial transcription.',
    'What are the key virulence factors of Salmonella?',
    'Explain the SOS response in bacteria.',
  ];

  // Prompt i goes to agent i % pool.size; the answers come back in input order.
  const responses = await scatterGather(pool, prompts);

  for (const [index, response] of responses.entries()) {
    console.log(`--- Prompt ${index} (agent ${response.agentIndex}) ---`);
    if (response.success) console.log(response.text.slice(0, 200), '...');
    else console.log(`Error: ${response.error}`);
  }
}

// As the usage guide's asyncio.run(main()), with one line instead of a stack trace on error.
main().catch((error: unknown) => {
  console.error(`proxy-quickstart: error: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
});
