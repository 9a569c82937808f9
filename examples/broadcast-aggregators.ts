/**
 * Port of the Python original's examples/broadcast_aggregators.py: broadcast one prompt to every
 * agent but one (`--exclude-index`), then majority vote and concat over the answers.
 *
 *   node dist/examples/broadcast-aggregators.js [--hostfile hostfile.txt] [--exclude-index 0]
 *     [--prompt "..."] [--max-tokens 1024] [--show-failures] [--max-concat-chars 2000]
 */
import { broadcast, concat, failureReport, majorityVote } from '../src/index.js';
import { argumentValue, exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'Port of broadcast_aggregators.py: one prompt to every agent but --exclude-index, then majority vote, concat and the failure report.',
  {
    '--prompt': 'string',
    '--exclude-index': 'count',
    '--max-tokens': 'number',
    '--max-concat-chars': 'number',
    '--show-failures': 'boolean',
  },
);

const prompt = argumentValue('--prompt') ?? 'Answer with one word: yes or no. Is the sky blue?';
const excludeIndex = Number(argumentValue('--exclude-index') ?? 0);
const maxTokens = Number(argumentValue('--max-tokens') ?? 1024);
const maxConcatChars = Number(argumentValue('--max-concat-chars') ?? 2000);
const showFailures = process.argv.includes('--show-failures');

const swarm = await openExampleSwarm({
  mockAgents: 5,
  reply: (_prompt, agentIndex) => (agentIndex === 4 ? 'No' : 'Yes'),
});
try {
  if (!Number.isInteger(excludeIndex) || excludeIndex < 0 || excludeIndex >= swarm.pool.size) {
    console.error(`Error: --exclude-index must be in [0, ${swarm.pool.size - 1}]`);
    process.exitCode = 1;
  } else {
    const indices = [...Array(swarm.pool.size).keys()].filter((index) => index !== excludeIndex);
    const subPool = swarm.pool.select(indices);
    console.log(`Broadcasting to ${subPool.size} agents (excluding index ${excludeIndex})`);
    const responses = await broadcast(subPool, prompt, { maxTokens });
    console.log(`Received ${responses.length} responses`);

    // Python: winner, confidence = majority_vote(responses)
    const { winner, confidence } = majorityVote(responses);
    console.log(`\nMajority vote:\n  Winner: ${JSON.stringify(winner)}`);
    console.log(`  Confidence: ${confidence.toFixed(2)}`);
    const report = failureReport(responses);
    if (report.successCount === 0 && report.failureCount > 0) {
      console.log(`  (No successful responses; ${report.failureCount} failure(s).)`);
    }

    const combined = concat(responses, { separator: ' | ' });
    const shown =
      combined.length > maxConcatChars ? `${combined.slice(0, maxConcatChars)}...` : combined;
    console.log(`\nAll responses (concat):\n  ${shown}`);

    if (showFailures) {
      console.log(
        `\nFailure report:\n  Total: ${report.total}, Success: ${report.successCount}, Failures: ${report.failureCount}`,
      );
      for (const failure of report.failures) {
        console.log(`  Agent ${failure.agentIndex}: ${failure.error}`);
      }
    }
  }
} finally {
  await swarm.close();
}
