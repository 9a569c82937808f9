/**
 * Tree-reduce of many documents: every document is summarised by a leaf agent, then groups of
 * `--fanin` summaries are merged by supervisors, level after level, into one summary.
 *
 *   node dist/examples/tree-reduce-documents.js [--hostfile hostfile.txt] [--documents 200] [--fanin 10]
 */
import { treeReduceDetails } from '../src/index.js';
import { argumentValue, exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'Tree-reduce of --documents documents (60): leaf agents summarise, supervisors merge --fanin (8) summaries at a time, level after level.',
  { '--documents': 'number', '--fanin': 'number' },
);

const documentCount = Number(argumentValue('--documents') ?? 60);
const fanin = Number(argumentValue('--fanin') ?? 8);

// Stand-ins for real documents (read yours from disk instead).
const organisms = ['E. coli', 'B. subtilis', 'S. aureus', 'P. aeruginosa', 'M. tuberculosis'];
const documents = Array.from(
  { length: documentCount },
  (_, index) =>
    `Report ${index}: growth of ${organisms[index % organisms.length]} under stress condition ${index % 7}; ` +
    `observed change in expression of ${3 + (index % 11)} genes.`,
);

const swarm = await openExampleSwarm({
  mockAgents: 6,
  reply: (prompt, agentIndex) =>
    prompt.startsWith('Merge')
      ? `[merged by agent ${agentIndex}: ${prompt.split('\n---\n').length} summaries]`
      : `summary of ${/Report \d+/.exec(prompt)?.[0] ?? 'a report'} by agent ${agentIndex}`,
});
try {
  console.log(`Reducing ${documents.length} documents with fan-in ${fanin} on ${swarm.origin}`);
  const result = await treeReduceDetails(
    swarm.pool,
    'Summarise the key finding of this report in one sentence:\n{item}',
    'Merge these level-{level} summaries into one short paragraph:\n{responses}',
    { items: documents, fanin, maxTokens: 128 },
  );
  result.levels.forEach((level, index) => {
    const failures = level.filter((response) => !response.success).length;
    console.log(
      `  level ${index}: ${level.length} node(s)${failures ? `, ${failures} failed` : ''}`,
    );
  });
  console.log(
    `Supervisor calls: ${result.supervisorCalls}; failed nodes: ${result.failures.length}`,
  );
  console.log(
    result.answer.success
      ? `Final summary: ${result.answer.text}`
      : `Reduction failed: ${result.answer.error}`,
  );
  if (!result.answer.success) process.exitCode = 1;
} finally {
  await swarm.close();
}
