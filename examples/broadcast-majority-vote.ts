/**
 * Broadcast one question to every agent and take a majority vote over the answers.
 *
 *   node dist/examples/broadcast-majority-vote.js [--hostfile hostfile.txt] [--question "..."]
 */
import { broadcast, failureReport, majorityVote } from '../src/index.js';
import { argumentValue, exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'Broadcast one --question to every agent and take a majority vote over the answers.',
  { '--question': 'string' },
);

const question =
  argumentValue('--question') ??
  'Is the mitochondrion the powerhouse of the cell? Answer with one word: yes or no.';

const swarm = await openExampleSwarm({
  mockAgents: 5,
  // Simulated agents mostly agree, so the vote has something to show.
  reply: (_prompt, agentIndex) => (agentIndex % 5 === 3 ? 'No' : 'Yes'),
});
try {
  console.log(`Asking ${swarm.origin}: ${question}`);
  const responses = await broadcast(swarm.pool, question, { maxTokens: 16 });
  for (const response of responses) {
    console.log(
      `  agent ${response.agentIndex}: ${response.success ? response.text : `FAILED (${response.error})`}`,
    );
  }
  const vote = majorityVote(responses);
  console.log(`Majority answer: ${vote.winnerText} (confidence ${vote.confidence.toFixed(2)})`);
  const report = failureReport(responses);
  if (report.failureCount > 0)
    console.log(`${report.failureCount} of ${report.total} agent(s) failed`);
} finally {
  await swarm.close();
}
