/**
 * A hypotheses/critiques blackboard: agents tagged `role=hypotheses` propose, agents tagged
 * `role=critiques` criticise, for a few rounds or until a critic has no further objections.
 *
 * Your hostfile needs the role tags, e.g.:
 *   compute-001	8000	role=hypotheses
 *   compute-002	8000	role=critiques
 *
 *   node dist/examples/blackboard-hypotheses.js [--hostfile hostfile.txt] [--rounds 3]
 */
import { Blackboard } from '../src/index.js';
import { argumentValue, exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'A hypotheses/critiques blackboard: agents tagged role=hypotheses propose, agents tagged role=critiques criticise, for --rounds rounds (3) or until a critic has no further objections.',
  { '--rounds': 'number' },
);

const maxRounds = Number(argumentValue('--rounds') ?? 3);
const question = 'Why do some bacteria survive antibiotic treatment without resistance genes?';

const swarm = await openExampleSwarm({
  mockAgents: 4,
  tags: (index) => ({ role: index % 2 === 0 ? 'hypotheses' : 'critiques' }),
  reply: (prompt, agentIndex) =>
    prompt.startsWith('Critique')
      ? `Critique from agent ${agentIndex}: the latest hypothesis needs a control experiment.`
      : `Hypothesis from agent ${agentIndex}: persister cells enter dormancy (idea ${prompt.length % 97}).`,
});
try {
  console.log(`Blackboard on ${swarm.origin}`);
  const blackboard = new Blackboard({
    sections: ['hypotheses', 'critiques'],
    promptFn: (section, board, round) =>
      section === 'hypotheses'
        ? `Round ${round}. ${question}\nPropose one new hypothesis. Recent critiques:\n${board.critiques?.join('\n') ?? ''}`
        : `Critique these hypotheses:\n${board.hypotheses?.join('\n') ?? ''}\nIf they are sound, answer only: NO FURTHER OBJECTIONS`,
  });
  const result = await blackboard.runDetails(swarm.pool, {
    maxRounds,
    maxTokens: 200,
    // Keep prompts small however long the session runs.
    boardView: { lastPerSection: 4, maxCharacters: 8000 },
    convergence: (board) =>
      (board.critiques ?? []).some((text) => text.includes('NO FURTHER OBJECTIONS')),
  });
  for (const [section, entries] of Object.entries(result.board)) {
    console.log(`== ${section} (${entries.length})`);
    for (const entry of entries) console.log(`  - ${entry}`);
  }
  console.log(
    `Rounds: ${result.round}${result.converged ? ' (converged)' : ''}; failed answers: ${result.failures.length}` +
      (result.idleSections.length
        ? `; sections without agents: ${result.idleSections.join(', ')}`
        : ''),
  );
} finally {
  await swarm.close();
}
