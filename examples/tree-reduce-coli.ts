/**
 * Port of the Python original's examples/tree_reduce_coli.py: one leaf per gene (a TSV line
 * `genome_id<TAB>organism<TAB>gene_id<TAB>description` of the chunk_*.txt files in a
 * directory), then a hierarchical reduce whose supervisors get
 * `maxTokens × groupSize + contingency` tokens — the budget the Python script computes in its
 * own reduce loop, here `treeReduce`'s `supervisorMaxTokens`. Without a directory it uses a few
 * built-in genes.
 *
 *   node dist/examples/tree-reduce-coli.js [INPUT_DIR] [--hostfile hostfile.txt] [--num-files 16]
 *     [--skip-files 0] [--fanin 16] [--max-tokens 4048] [--max-tokens-contingency 4096] [--output F]
 *
 * Not ported: the socket monitor and plots (Python-side tooling), and the --batch-concurrency,
 * --timeout-per-sequence and --batch-timeout-cap flags: in the Python script they size the
 * timeout of its leaf phase, a `scatter_gather` that its VLLMPool batches by default, while this
 * port's leaves are `treeReduce` leaves, one chat completion per gene (as the Python library's
 * own `tree_reduce` sends them); for batched leaves see scatter-gather-coli.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { treeReduceDetails } from '../src/index.js';
import {
  argumentValue,
  BUILT_IN_COLI_GENES,
  exampleCommandLine,
  openExampleSwarm,
} from './example-swarm.js';

const inputDirectory = exampleCommandLine(
  'Port of tree_reduce_coli.py: one leaf per gene of INPUT_DIR (built-in genes without it), then supervisors with maxTokens x groupSize + contingency tokens.',
  {
    '--num-files': 'number',
    '--skip-files': 'count',
    '--fanin': 'number',
    '--max-tokens': 'number',
    '--max-tokens-contingency': 'count',
    '--output': 'string',
  },
  process.argv.slice(2),
  'INPUT_DIR',
);

const numFiles = Number(argumentValue('--num-files') ?? 16);
const skipFiles = Number(argumentValue('--skip-files') ?? 0);
const fanin = Number(argumentValue('--fanin') ?? 16);
const maxTokens = Number(argumentValue('--max-tokens') ?? 4048);
const contingency = Number(argumentValue('--max-tokens-contingency') ?? 4096);
const output = argumentValue('--output');

const REDUCE_PROMPT = `The following are individual gene analysis responses. Consider whether the genes described might function together to provide a higher-level function (e.g. pathway, complex, regulation). Produce a concise synthesis.

Gene responses (level {level}):

{responses}`;

function geneLines(): readonly string[] {
  if (inputDirectory === undefined) return BUILT_IN_COLI_GENES;
  const files = readdirSync(inputDirectory)
    .filter((name) => /^chunk_.*\.txt$/.test(name))
    .sort()
    .slice(skipFiles, skipFiles + numFiles);
  if (files.length === 0) throw new Error(`No chunk_*.txt files found in ${inputDirectory}`);
  return files.flatMap((name) => readFileSync(join(inputDirectory, name), 'utf8').split('\n'));
}

// As the Python parse_gene_line: strip, split on tabs, at least 4 fields, the rest is the description.
const genes = geneLines()
  .map((line) => line.trim().split('\t'))
  .filter((parts) => parts.length >= 4)
  .map(([, organism, geneId, ...description]) => ({
    organism,
    gene: `${geneId}\t${description.join('\t')}`,
  }));

const swarm = await openExampleSwarm({
  mockAgents: 4,
  reply: (prompt, agentIndex) =>
    prompt.startsWith('The following are individual gene')
      ? `Synthesis by agent ${agentIndex} of ${prompt.split('\n---\n').length} responses`
      : `Agent ${agentIndex}: ${/\t([^.]*)\./.exec(prompt)?.[1] ?? 'a gene'} is well studied.`,
});
try {
  console.log(`Leaves: ${genes.length} gene(s); fanin ${fanin}; on ${swarm.origin}`);
  const { answer, levels, supervisorCalls } = await treeReduceDetails(
    swarm.pool,
    'Please tell me (using the knowledge you have been trained on) what you know about this bacterial gene in {item}. Is this gene well studied or hypothetical? Is it essential? Is it a good antibacterial drug target?',
    REDUCE_PROMPT,
    {
      items: genes.map(
        (entry) => `${entry.organism} whose various IDs are given here: ${entry.gene}.`,
      ),
      fanin,
      maxTokens,
      // Python: reduce max_tokens = max_tokens_leaves * len(group) + contingency
      supervisorMaxTokens: (_level, groupSize) => maxTokens * groupSize + contingency,
    },
  );
  const lines: string[] = [];
  levels.slice(1).forEach((level, index) => {
    level.forEach((response, group) => {
      if (response.success) lines.push(`--- Level ${index + 1}, Group ${group} ---`, response.text);
    });
  });
  lines.push('', 'FINAL SYNTHESIS', answer.success ? answer.text : `failed: ${answer.error}`);
  if (output) writeFileSync(output, `${lines.join('\n')}\n`);
  else console.log(lines.join('\n'));
  console.log(`Supervisor calls: ${supervisorCalls}`);
  if (!answer.success) process.exitCode = 1;
} finally {
  await swarm.close();
}
