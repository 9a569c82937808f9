/**
 * Port of the Python original's examples/context_length_demo.py: the four ways `max_tokens` is
 * decided — explicit options, environment variables, sizing to the prompt and the model's
 * context, and the larger aggregation budget of reduce steps. The Python demos only print the
 * settings; this port also sends a short and a very long prompt to the swarm and prints the
 * `max_tokens` each call was given (read back from the simulated agents' request log when the
 * example started them).
 *
 *   node dist/examples/context-length-demo.js [--hostfile hostfile.txt] [--model NAME]
 */
import { resolveVLLMPoolOptions, sizeMaxTokens, VLLMPool } from '../src/index.js';
import { exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'Port of context_length_demo.py: explicit options, environment variables, sizing max_tokens to the prompt and the context, and the aggregation budget.',
);

// Simulated agents that serve a 131072-token model, as the Python demo assumes.
const swarm = await openExampleSwarm({ mockAgents: 2, perAgent: () => ({ maxModelLen: 131_072 }) });
const simulated = swarm.agents;
try {
  console.log('=== Demo 1: Explicit Configuration ===\n');
  {
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      proxyUrl: swarm.proxyUrl,
      model: swarm.pool.model,
      maxTokens: 1024, // default for simple prompts
      maxTokensAggregation: 2048, // for aggregation steps
      modelMaxContext: 131_072, // skip the /v1/models lookup (optional)
      contextBufferTokens: 512, // safety margin (Python: buffer=512)
    });
    console.log(`Default max_tokens: ${pool.maxTokens}`);
    console.log(`Aggregation max_tokens: ${pool.maxTokensAggregation}`);
    console.log('Model max context: 131072');
    console.log('Buffer: 512\n');
  }

  console.log('=== Demo 2: Environment Variable Configuration ===\n');
  {
    // The Python demo sets os.environ; resolveVLLMPoolOptions takes the environment as an
    // argument, so nothing global changes.
    const env = {
      AURORA_SWARM_MAX_TOKENS: '2048',
      AURORA_SWARM_MAX_TOKENS_AGGREGATION: '4096',
      AURORA_SWARM_MODEL_MAX_CONTEXT: '131072',
    };
    const resolved = resolveVLLMPoolOptions({ endpoints: swarm.endpoints }, env);
    console.log(`Max tokens (from env): ${resolved.maxTokens}`);
    console.log(`Aggregation max tokens (from env): ${resolved.maxTokensAggregation}`);
    console.log(`Model context (from env): ${resolved.modelMaxContext}\n`);
  }

  console.log('=== Demo 3: Dynamic Sizing ===\n');
  {
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      proxyUrl: swarm.proxyUrl,
      model: swarm.pool.model,
      maxTokens: 1024,
      modelMaxContext: 131_072,
    });
    const show = async (label: string, prompt: string) => {
      const estimate = Math.ceil(prompt.length / 4);
      const sized = sizeMaxTokens(1024, 131_072, prompt.length, 512);
      console.log(`${label} (${prompt.length} chars):`);
      console.log(`  Estimated tokens: ${estimate}`);
      console.log(`  Will use: min(1024, max(128, 131072 - ${estimate} - 512)) = ${sized}`);
      const before = simulated?.[0]?.requests.length ?? 0;
      const response = await pool.post(0, prompt, { maxTokens: 1024 });
      const sent = simulated?.[0]?.requests
        .slice(before)
        .find((request) => request.url === '/v1/chat/completions');
      const used = sent
        ? ` (the agent received max_tokens=${JSON.parse(sent.body).max_tokens})`
        : '';
      console.log(
        `  Sent: ${response.success ? `answered, finish_reason=${response.finishReason}` : `failed: ${response.error}`}${used}\n`,
      );
    };
    await show('Short prompt', 'Hello, how are you?');
    // ~500 KB, the Python demo's: still room for 1024 tokens in a 131072-token context.
    await show('Long prompt', `Context: ${'x'.repeat(500_000)}`);
    // ~520 KB: now the room left in the context is what bounds max_tokens.
    await show('Longer prompt', `Context: ${'x'.repeat(520_000)}`);
  }

  console.log('=== Demo 4: Aggregation Pattern ===\n');
  {
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      proxyUrl: swarm.proxyUrl,
      maxTokens: 1024,
      maxTokensAggregation: 2048,
    });
    console.log('In broadcastAndReduce:');
    console.log(`  - Broadcast step uses: ${pool.maxTokens} tokens (default)`);
    console.log(`  - Reduce step uses: ${pool.maxTokensAggregation} tokens (aggregation)`);
    console.log('\nThis ensures the reduce step has enough capacity for:');
    console.log('  - Concatenated responses from all agents');
    console.log('  - Reasoning overhead for synthesis');
    console.log('  - Final summarized output\n');
  }

  console.log('=== Summary ===\n');
  console.log('Context length management features:');
  console.log('  1. Environment variables: AURORA_SWARM_MAX_TOKENS, etc.');
  console.log('  2. Explicit options: maxTokens, maxTokensAggregation');
  console.log('  3. Dynamic sizing: adapts to prompt length automatically');
  console.log('  4. Aggregation presets: larger budgets for reduce steps');
  console.log('  5. Per-request override: pool.post(i, prompt, { maxTokens: N })');
} finally {
  await swarm.close();
}
