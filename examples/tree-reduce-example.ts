/**
 * Port of the Python original's examples/tree_reduce_example.py: hierarchical summarisation with
 * `treeReduce`, in broadcast mode (the same `--prompt` to every agent) or, with `--items a,b,c`,
 * scatter mode (one leaf per item, `{item}` filled in); supervisors merge `--fanin` answers at a
 * time with `--reduce-prompt` (`{responses}`, optionally `{level}`).
 *
 *   node dist/examples/tree-reduce-example.js [--hostfile hostfile.txt] [--prompt TEXT]
 *     [--reduce-prompt TEXT] [--items CSV] [--fanin 4] [--max-tokens 1024] [--timeout 300]
 *     [--concurrency 64] [--show-failures]
 *
 * Progress goes to stderr with timestamps as in Python; the final result to stdout.
 */
import { treeReduce } from '../src/index.js';
import { argumentValue, exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'Port of tree_reduce_example.py: leaves answer --prompt (broadcast) or one {item} each of --items, supervisors merge --fanin answers with --reduce-prompt until one remains.',
  {
    '--prompt': 'string',
    '--reduce-prompt': 'string',
    '--items': 'string',
    '--fanin': 'number',
    '--max-tokens': 'number',
    '--timeout': 'number',
    '--concurrency': 'number',
    '--show-failures': 'boolean',
  },
);

function log(message: string): void {
  const now = new Date();
  const pad = (value: number) => String(value).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  process.stderr.write(`[${stamp}] ${message}\n`);
}

function inputError(message: string): never {
  process.stderr.write(`tree-reduce-example: error: ${message}\n`);
  process.exit(2);
}

const prompt =
  argumentValue('--prompt') ?? 'Name one benefit of renewable energy. Keep it to one sentence.';
const reducePrompt =
  argumentValue('--reduce-prompt') ??
  'Below are several responses. Merge them into a concise summary (level {level}):\n\n{responses}';
const fanin = Number(argumentValue('--fanin') ?? 4);
const itemsFlag = argumentValue('--items');
if (!reducePrompt.includes('{responses}')) {
  inputError('--reduce-prompt must contain {responses} placeholder');
}
let items: string[] | undefined;
if (itemsFlag !== undefined) {
  items = itemsFlag
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) inputError('--items must contain at least one item');
  if (!prompt.includes('{item}')) {
    inputError('--prompt must contain {item} placeholder when using --items');
  }
}
if (!Number.isInteger(fanin) || fanin < 2)
  inputError(`--fanin must be an integer >= 2, got ${fanin}`);

const swarm = await openExampleSwarm({
  mockAgents: 4,
  reply: (text, agentIndex) =>
    text.startsWith('Below are several responses')
      ? `Summary by agent ${agentIndex} of ${text.split('\n---\n').length} answers`
      : `Agent ${agentIndex}: renewable energy cuts emissions.`,
  pool: {
    maxTokens: Number(argumentValue('--max-tokens') ?? 1024),
    timeoutMs: Number(argumentValue('--timeout') ?? 300) * 1000,
    concurrency: Number(argumentValue('--concurrency') ?? 64),
  },
});
let result: Awaited<ReturnType<typeof treeReduce>>;
try {
  log('='.repeat(60));
  log('Tree-Reduce Example');
  log('='.repeat(60));
  log(`Loaded ${swarm.endpoints.length} endpoints (${swarm.origin})`);
  if (items !== undefined) {
    log(`Scatter mode: ${items.length} items, fanin=${fanin}`);
    log(`Prompt template: ${prompt.length > 60 ? `${prompt.slice(0, 60)}...` : prompt}`);
  } else {
    log(`Broadcast mode: fanin=${fanin}`);
    log(`Prompt: ${prompt.length > 80 ? `${prompt.slice(0, 80)}...` : prompt}`);
  }
  result = await treeReduce(swarm.pool, prompt, reducePrompt, { fanin, items });
} finally {
  await swarm.close();
}
if (!result.success) {
  log(`Tree-reduce failed: ${result.error}`);
  if (process.argv.includes('--show-failures')) log(`  Error details: ${result.error}`);
  log('='.repeat(60));
  process.exitCode = 1;
} else {
  console.log('\nFinal result:');
  console.log('-'.repeat(40));
  console.log(result.text);
  console.log('-'.repeat(40));
  log('='.repeat(60));
}
