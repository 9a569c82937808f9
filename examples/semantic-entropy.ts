/**
 * Semantic entropy over sampled answers: ask every agent the same question at a non-zero
 * temperature, embed the answers, cluster them by meaning and measure how spread out they are
 * (0 nats: all answers mean the same; higher: the swarm is unsure).
 *
 * The agents must serve an embedding model on /v1/embeddings for this example (the simulated
 * agents do).
 *
 *   node dist/examples/semantic-entropy.js [--hostfile hostfile.txt] [--threshold 0.9]
 */
import { broadcast, scatterGatherEmbeddings, semanticEntropyDetails } from '../src/index.js';
import { argumentValue, exampleCommandLine, openExampleSwarm } from './example-swarm.js';

exampleCommandLine(
  'Semantic entropy over sampled answers to --question: embed them, cluster by meaning (cosine similarity above --threshold, 0.9), measure the spread in nats.',
  { '--question': 'string', '--threshold': 'number' },
);

const question =
  argumentValue('--question') ??
  'What is the main product of photosynthesis? Answer in a few words.';
const similarityThreshold = Number(argumentValue('--threshold') ?? 0.9);

const swarm = await openExampleSwarm({
  mockAgents: 6,
  // Two camps of simulated answers, so the entropy is clearly above zero.
  reply: (_prompt, agentIndex) => (agentIndex % 3 === 0 ? 'Oxygen gas' : 'Glucose (sugar)'),
});
try {
  console.log(`Sampling ${swarm.origin}: ${question}`);
  const answers = await broadcast(swarm.pool, question, {
    maxTokens: 32,
    extraBody: { temperature: 1.0 },
  });
  const answered = answers.filter((response) => response.success);
  const embedded = await scatterGatherEmbeddings(
    swarm.embeddingPool(),
    answered.map((response) => response.text),
  );
  const vectors: number[][] = [];
  const texts: string[] = [];
  embedded.forEach((embedding, index) => {
    if (embedding.success && embedding.embedding) {
      vectors.push(embedding.embedding);
      texts.push(answered[index]?.text ?? '');
    }
  });
  console.log(
    `${answers.length - answered.length} sampling failure(s), ${answered.length - vectors.length} embedding failure(s)`,
  );
  if (vectors.length === 0) {
    console.log('No answers to measure.');
    process.exitCode = 1;
  } else {
    const { entropy, clusters, clusterSizes } = semanticEntropyDetails(vectors, {
      similarityThreshold,
    });
    clusterSizes.forEach((size, label) => {
      const example = texts[clusters.indexOf(label)];
      console.log(`  cluster ${label}: ${size} answer(s), e.g. "${example}"`);
    });
    console.log(
      `Semantic entropy: ${entropy.toFixed(3)} nats over ${clusterSizes.length} cluster(s)`,
    );
  }
} finally {
  await swarm.close();
}
