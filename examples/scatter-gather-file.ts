/**
 * Scatter-gather from a file: one prompt per line, spread over the agents, results written as
 * they finish. The file is streamed (`scatterGatherStream`), so it may hold millions of lines.
 *
 *   node dist/examples/scatter-gather-file.js [--hostfile hostfile.txt] [--prompts prompts.txt] [--out results.jsonl]
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { scatterGatherStream } from '../src/index.js';
import { argumentValue, exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'Scatter-gather from a file: one prompt per line of --prompts, spread over the agents, results written to --out (JSONL) as they finish.',
  { '--prompts': 'string', '--out': 'string' },
);

// The compiled example lives in dist/examples/; the sample file stays in examples/data/.
const promptsPath =
  argumentValue('--prompts') ??
  fileURLToPath(new URL('../../examples/data/prompts.txt', import.meta.url));
const outPath = argumentValue('--out');

async function* nonEmptyLines(path: string): AsyncGenerator<string> {
  for await (const line of createInterface({
    input: createReadStream(path),
    crlfDelay: Infinity,
  })) {
    if (line.trim() !== '') yield line;
  }
}

const swarm = await openExampleSwarm({ mockAgents: 4 });
const out = outPath ? createWriteStream(outPath) : undefined;
try {
  console.log(`Scattering the prompts of ${promptsPath} over ${swarm.origin}`);
  let succeeded = 0;
  let failed = 0;
  for await (const { index, response } of scatterGatherStream(
    swarm.pool,
    nonEmptyLines(promptsPath),
    {
      maxTokens: 256,
    },
  )) {
    if (response.success) succeeded += 1;
    else failed += 1;
    const text = response.success ? response.text.slice(0, 120) : `Error: ${response.error}`;
    console.log(`--- Prompt ${index} (agent ${response.agentIndex}) ---\n${text}`);
    out?.write(
      `${JSON.stringify({ index, agent: response.globalIndex, success: response.success, text: response.text, error: response.error })}\n`,
    );
  }
  console.log(
    `Done: ${succeeded} answered, ${failed} failed${outPath ? `; results in ${outPath}` : ''}`,
  );
} finally {
  await new Promise<void>((resolve) => (out ? out.end(resolve) : resolve()));
  await swarm.close();
}
