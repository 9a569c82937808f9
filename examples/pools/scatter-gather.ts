// Quick start: a VLLMPool over simulated agents, prompt i → agent i % size, input order.
import { startMockSwarm, VLLMPool } from '../../src/index.js';

const swarm = await startMockSwarm({ count: 4 });
try {
  await using pool = new VLLMPool({
    endpoints: swarm.endpoints, // in real life: parseHostfile('hostfile.txt')
    model: 'meta-llama/Llama-3.1-70B-Instruct',
    maxTokens: 512,
  });
  const prompts = [
    'What is the function of the lacZ gene in E. coli?',
    'Describe the role of sigma factor in bacterial transcription.',
    'What are the key virulence factors of Salmonella?',
    'Explain the SOS response in bacteria.',
  ];
  const responses = await pool.sendAll(prompts);
  for (const [index, response] of responses.entries()) {
    console.log(`--- Prompt ${index} (agent ${response.agentIndex}) ---`);
    console.log(response.success ? response.text.slice(0, 200) : `Error: ${response.error}`);
  }
} finally {
  await swarm.close();
}
