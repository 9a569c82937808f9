/**
 * A two-stage pipeline: several agents draft, then one agent edits the drafts into one text.
 * With `--disjoint` the editor is an agent that did not draft.
 *
 *   node dist/examples/two-stage-pipeline.js [--hostfile hostfile.txt] [--topic "..."] [--disjoint]
 */
import { runPipelineDetails } from '../src/index.js';
import { argumentValue, exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'A two-stage pipeline on --topic: several agents draft, then one agent edits the drafts into one text (--disjoint: an agent that did not draft).',
  { '--topic': 'string', '--disjoint': 'boolean' },
);

const topic = argumentValue('--topic') ?? 'how telomere length relates to cellular ageing';
const disjoint = process.argv.includes('--disjoint');

const swarm = await openExampleSwarm({
  mockAgents: 4,
  reply: (prompt, agentIndex) =>
    prompt.startsWith('Edit')
      ? `Edited abstract (agent ${agentIndex}) from ${prompt.split('\n').length - 1} draft line(s).`
      : `Draft by agent ${agentIndex}: telomeres shorten with each division.`,
});
try {
  const drafters = Math.max(1, Math.min(3, swarm.endpoints.length - (disjoint ? 1 : 0)));
  console.log(
    `Pipeline on ${swarm.origin}: ${drafters} drafter(s), 1 editor${disjoint ? ' (disjoint)' : ''}`,
  );
  const result = await runPipelineDetails(
    swarm.pool,
    [
      {
        name: 'draft',
        promptTemplate: 'Write a three-sentence abstract about {input}.',
        nAgents: drafters,
      },
      {
        name: 'edit',
        promptTemplate: 'Edit these drafts into one clear abstract:\n{input}',
        nAgents: 1,
      },
    ],
    topic,
    { reuseAgents: !disjoint, maxTokens: 300 },
  );
  for (const stage of result.stages) {
    const failed = stage.responses.filter((response) => !response.success).length;
    console.log(
      `-- stage ${stage.name}: ${stage.responses.length} answer(s)${failed ? `, ${failed} failed` : ''}`,
    );
  }
  if (result.success) console.log(`Result:\n${String(result.output)}`);
  else {
    console.log(`Pipeline stopped: ${result.error}`);
    process.exitCode = 1;
  }
} finally {
  await swarm.close();
}
