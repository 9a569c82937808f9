/**
 * Port of the Python original's examples/scatter_gather_coli.py: one prompt per bacterial gene
 * (a TSV line `genome_id<TAB>organism<TAB>gene_id<TAB>description` of the chunk_*.txt files in
 * INPUT_DIR), scattered over the agents with `scatterGather`, answers written in input order.
 * Without INPUT_DIR it uses a few built-in E. coli genes.
 *
 * As the Python script (whose VLLMPool batches by default) it runs in batch mode: each agent's
 * share of a `--batch-size` slice goes out as one /v1/completions prompt list — 2,000 prompts on
 * 4 agents are 4 requests of 500. `--chat` sends one chat completion per prompt instead (the
 * chat template applied; this library's default).
 *
 *   node dist/examples/scatter-gather-coli.js [INPUT_DIR] [--hostfile hostfile.txt] [--num-files 10]
 *     [--skip-files 0] [--output results.txt] [--max-tokens 1024] [--model NAME]
 *     [--batch-size N] [--timeout 300] [--concurrency 64] [--chat]
 *
 * Progress goes to stderr with timestamps as in Python; the results to stdout or --output.
 * Exit status 1 when any prompt failed.
 */
import { createWriteStream, readdirSync, readFileSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { scatterGather } from '../src/index.js';
import {
  argumentValue,
  BUILT_IN_COLI_GENES,
  exampleCommandLine,
  logWithTimestamp,
  openExampleSwarm,
} from './example-swarm.js';

const inputDirectory = exampleCommandLine(
  'Port of scatter_gather_coli.py: one prompt per gene of the chunk_*.txt files of INPUT_DIR (built-in genes without it), scattered in batch mode (--chat: one chat call per prompt), answers in input order.',
  {
    '--num-files': 'number',
    '--skip-files': 'count',
    '--output': 'string',
    '--max-tokens': 'number',
    '--batch-size': 'number',
    '--timeout': 'number',
    '--concurrency': 'number',
    '--chat': 'boolean',
  },
  process.argv.slice(2),
  'INPUT_DIR',
);

const numFiles = Number(argumentValue('--num-files') ?? 10);
const skipFiles = Number(argumentValue('--skip-files') ?? 0);
const output = argumentValue('--output');
const maxTokens = Number(argumentValue('--max-tokens') ?? 1024);
const batchSizeFlag = argumentValue('--batch-size');
const timeoutSeconds = Number(argumentValue('--timeout') ?? 300);
const concurrency = Number(argumentValue('--concurrency') ?? 64);
const chat = process.argv.includes('--chat');

/** The prompt of test.coli_v3.py / scatter_gather_coli.py, word for word. */
function constructPrompt(organism: string, geneId: string, description: string): string {
  const geneData = `${geneId}\t${description}`;
  return (
    'Please tell me (using the knowledge you have been trained on) what you know about this bacterial gene in ' +
    organism +
    ' whose various IDs are given here, though they all refer to the same gene: ' +
    geneData +
    '. In particular, we want to know the following information: Is this gene well studied or is it hypothetical with unknown function? ' +
    'Is the gene essential for survival? Is the gene or gene product a good antibacterial drug target? What other genes does this gene interact with? ' +
    'Is this gene part of an operon (cluster of genes on the chromosome that work together to carry out complex functions)? ' +
    "Is this gene involved in transcriptional regulation? Is it known what gene regulates this gene's expression? " +
    'Does this gene also occur in other bacteria? If you were starting out as a research microbiologist, what might be a hypothesis you could explore related to this protein that would have significant scientific impact? ' +
    'Where possible, give concise answers to these questions as well as describe the function of the gene more generally if it is known.'
  );
}

interface Gene {
  genomeId: string;
  organism: string;
  geneId: string;
  prompt: string;
}

/** The lines of the chunk files to read, as the Python discover_chunk_files / read_and_prepare_data. */
function readGenes(): Gene[] {
  let sources: { name: string; lines: readonly string[] }[];
  if (inputDirectory === undefined) {
    sources = [{ name: 'built-in genes', lines: BUILT_IN_COLI_GENES }];
  } else {
    if (!statSync(inputDirectory, { throwIfNoEntry: false })?.isDirectory()) {
      throw new Error(`Input path is not a directory: ${inputDirectory}`);
    }
    const files = readdirSync(inputDirectory)
      .filter((name) => /^chunk_.*\.txt$/.test(name))
      .sort();
    if (files.length === 0) throw new Error(`No chunk_*.txt files found in ${inputDirectory}`);
    const chosen = files.slice(skipFiles, skipFiles + numFiles);
    logWithTimestamp(`Found ${chosen.length} chunk files to process`);
    sources = chosen.map((name) => ({
      name,
      lines: readFileSync(join(inputDirectory, name), 'utf8').split('\n'),
    }));
  }
  const genes: Gene[] = [];
  let total = 0;
  let skipped = 0;
  sources.forEach((source, fileIndex) => {
    logWithTimestamp(`  [${fileIndex + 1}/${sources.length}] Processing ${source.name}...`);
    source.lines.forEach((raw, lineIndex) => {
      // A trailing newline does not make a line (Python iterates the file's lines).
      if (lineIndex === source.lines.length - 1 && raw === '') return;
      total++;
      const line = raw.trim();
      const parts = line.split('\t');
      if (line === '' || parts.length < 4) {
        if (line !== '') {
          logWithTimestamp(
            `Warning: Line ${lineIndex + 1} has fewer than 4 fields, skipping: ${line.slice(0, 50)}...`,
          );
        }
        skipped++;
        return;
      }
      const [genomeId, organism, geneId, ...description] = parts as [string, string, string];
      genes.push({
        genomeId,
        organism,
        geneId,
        prompt: constructPrompt(organism, geneId, description.join('\t')),
      });
    });
  });
  logWithTimestamp(`Loaded ${genes.length} prompts from ${total} total lines`);
  if (skipped > 0) logWithTimestamp(`Skipped ${skipped} invalid/empty lines`);
  return genes;
}

const swarm = await openExampleSwarm({
  mockAgents: 4,
  reply: (prompt, agentIndex) =>
    `Agent ${agentIndex}: ${/refer to the same gene: (\S+)/.exec(prompt)?.[1] ?? 'this gene'} is well studied.`,
  pool: {
    maxTokens,
    timeoutMs: timeoutSeconds * 1000,
    concurrency,
    batch: !chat,
  },
});
logWithTimestamp('='.repeat(80));
logWithTimestamp('Scatter-Gather COLI Example');
logWithTimestamp('='.repeat(80));
const genes = readGenes();
if (genes.length === 0) throw new Error('No valid prompts to process');

let out: WriteStream | undefined;
const write = (text: string) => (out ? out.write(`${text}\n`) : console.log(text));
try {
  logWithTimestamp(`Loaded ${swarm.pool.size} endpoints (${swarm.origin})`);
  swarm.endpoints.slice(0, 5).forEach((endpoint, index) => {
    logWithTimestamp(`  Endpoint ${index}: ${endpoint.url}`);
  });
  if (swarm.endpoints.length > 5) logWithTimestamp(`  ... and ${swarm.endpoints.length - 5} more`);
  logWithTimestamp(
    `Creating VLLMPool with max_tokens=${maxTokens}, concurrency=${concurrency}, ${chat ? 'chat completions' : 'batch mode'}`,
  );
  if (output) {
    out = createWriteStream(output, { encoding: 'utf8' });
    logWithTimestamp(`Writing output to ${output}`);
  }
  const batchSize = batchSizeFlag === undefined ? genes.length : Number(batchSizeFlag);
  const batches = Math.ceil(genes.length / batchSize);
  logWithTimestamp(
    `Processing ${genes.length} prompts in ${batches} batch(es) of up to ${batchSize}`,
  );
  const started = performance.now();
  let successes = 0;
  let errors = 0;
  for (let batch = 0; batch < batches; batch++) {
    const start = batch * batchSize;
    const slice = genes.slice(start, start + batchSize);
    logWithTimestamp(
      `Processing batch ${batch + 1}/${batches} (${slice.length} prompts, indices ${start}-${start + slice.length - 1})`,
    );
    const responses = await scatterGather(
      swarm.pool,
      slice.map((gene) => gene.prompt),
    );
    logWithTimestamp(`Received ${responses.length} responses from batch ${batch + 1}`);
    responses.forEach((response, index) => {
      const gene = slice[index]!;
      const header = `[GENOME: ${gene.genomeId}] [ORGANISM: ${gene.organism}] [GENE: ${gene.geneId}]`;
      if (response.success) {
        successes++;
        write(header);
        write(response.text);
      } else {
        errors++;
        logWithTimestamp(`ERROR: Genome ${gene.genomeId}, Gene ${gene.geneId}: ${response.error}`);
        write(header);
        write(`ERROR: ${response.error}`);
      }
      write(`\n${'-'.repeat(80)}\n`);
    });
  }
  const elapsed = (performance.now() - started) / 1000;
  logWithTimestamp('='.repeat(80));
  logWithTimestamp('SUMMARY');
  logWithTimestamp('='.repeat(80));
  logWithTimestamp(`Total prompts: ${genes.length}`);
  logWithTimestamp(`Successful: ${successes}`);
  logWithTimestamp(`Errors: ${errors}`);
  logWithTimestamp(`Elapsed time: ${elapsed.toFixed(2)} seconds`);
  logWithTimestamp(`Throughput: ${(genes.length / elapsed).toFixed(2)} prompts/second`);
  logWithTimestamp('='.repeat(80));
  if (errors > 0) process.exitCode = 1;
} finally {
  if (out) {
    const stream = out;
    await new Promise<void>((resolve) => stream.end(resolve));
    logWithTimestamp(`Output written to ${output}`);
  }
  await swarm.close();
  logWithTimestamp('Pool closed');
}
