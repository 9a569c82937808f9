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
import {
  argumentValue,
  exampleCommandLine,
  exampleUsageError,
  logWithTimestamp,
  openExampleSwarm,
} from './example-swarm.js';

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

const prompt =
  argumentValue('--prompt') ?? 'Name one benefit of renewable energy. Keep it to one sentence.';
const reducePrompt =
  argumentValue('--reduce-prompt') ??
  'Below are several responses. Merge them into a concise summary (level {level}):\n\n{responses}';
const fanin = Number(argumentValue('--fanin') ?? 4);
const itemsFlag = argumentValue('--items');
if (!reducePrompt.includes('{responses}')) {
  exampleUsageError('--reduce-prompt must contain {responses} placeholder');
}
let items: string[] | undefined;
if (itemsFlag !== undefined) {
  items = itemsFlag
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) exampleUsageError('--items must contain at least one item');
  if (!prompt.includes('{item}')) {
    exampleUsageError('--prompt must contain {item} placeholder when using --items');
  }
}
if (!Number.isInteger(fanin) || fanin < 2)
  exampleUsageError(`--fanin must be an integer >= 2, got ${fanin}`);

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
  logWithTimestamp('='.repeat(60));
  logWithTimestamp('Tree-Reduce Example');
  logWithTimestamp('='.repeat(60));
  logWithTimestamp(`Loaded ${swarm.endpoints.length} endpoints (${swarm.origin})`);
  if (items !== undefined) {
    logWithTimestamp(`Scatter mode: ${items.length} items, fanin=${fanin}`);
    logWithTimestamp(
      `Prompt template: ${prompt.length > 60 ? `${prompt.slice(0, 60)}...` : prompt}`,
    );
  } else {
    logWithTimestamp(`Broadcast mode: fanin=${fanin}`);
    logWithTimestamp(`Prompt: ${prompt.length > 80 ? `${prompt.slice(0, 80)}...` : prompt}`);
  }
  result = await treeReduce(swarm.pool, prompt, reducePrompt, { fanin, items });
} finally {
  await swarm.close();
}
if (!result.success) {
  logWithTimestamp(`Tree-reduce failed: ${result.error}`);
  if (process.argv.includes('--show-failures'))
    logWithTimestamp(`  Error details: ${result.error}`);
  logWithTimestamp('='.repeat(60));
  process.exitCode = 1;
} else {
  console.log('\nFinal result:');
  console.log('-'.repeat(40));
  console.log(result.text);
  console.log('-'.repeat(40));
  logWithTimestamp('='.repeat(60));
}
