/**
 * Port of the Python original's examples/lab3_train_probe.py: train a linear ridge probe that
 * predicts semantic entropy from hidden-state features, `X.npy` (n_prompts × n_features) and
 * `y.npy` (n_prompts), with the Python fit (`penalizeIntercept: true`, `--ridge-alpha` as λ),
 * and save it with its metadata (`ridge_alpha`, `n_prompts`, `n_features`).
 *
 *   node dist/examples/lab3-train-probe.js --hidden-states X.npy --targets y.npy --out probe.json
 *     [--ridge-alpha 1.0]
 *
 * Without --hidden-states and --targets it builds a small training set on the swarm instead
 * (the simulated one without --hostfile): for each of a few prompts it samples answers, embeds
 * them and takes their semantic entropy as the target, with the embedding of the prompt as a
 * stand-in for hidden states (vLLM does not return those). --out is then optional.
 *
 * Deviation: the probe is written as JSON (Python: .npz + .npz.json); `loadProbe` and
 * lab3-semantic-uncertainty --probe read both.
 */
import {
  type EmbeddingPool,
  predictSemanticEntropy,
  readNpyMatrix,
  readNpyVector,
  saveProbe,
  scatterGather,
  scatterGatherEmbeddings,
  semanticEntropy,
  trainProbe,
} from '../src/index.js';
import {
  argumentValue,
  exampleCommandLine,
  exampleUsageError,
  logWithTimestamp,
  openExampleSwarm,
} from './example-swarm.js';

exampleCommandLine(
  'Port of lab3_train_probe.py: a ridge probe from --hidden-states X.npy to --targets y.npy, saved to --out (without the .npy files: a training set sampled from the swarm).',
  {
    '--hidden-states': 'string',
    '--targets': 'string',
    '--ridge-alpha': 'string',
    '--out': 'string',
  },
);

const hiddenStatesPath = argumentValue('--hidden-states');
const targetsPath = argumentValue('--targets');
const out = argumentValue('--out');
const ridgeAlpha = Number(argumentValue('--ridge-alpha') ?? 1.0);
if (!Number.isFinite(ridgeAlpha) || ridgeAlpha < 0) {
  exampleUsageError(
    `--ridge-alpha expects a number >= 0, got ${JSON.stringify(argumentValue('--ridge-alpha'))}`,
  );
}
if ((hiddenStatesPath === undefined) !== (targetsPath === undefined)) {
  exampleUsageError('--hidden-states and --targets go together');
}
if (hiddenStatesPath !== undefined && out === undefined) {
  exampleUsageError('--out is required with --hidden-states and --targets');
}

const DEMO_PROMPTS = [
  'What is the boiling point of water at sea level?',
  'Which gene regulates the lac operon?',
  'Will this protein fold into a stable structure?',
  'What is the function of gene b0002?',
  'Is persister formation a response to stress?',
  'Name the capital of France.',
];

/** Features (prompt embeddings) and targets (semantic entropy of sampled answers) from the swarm. */
async function sampleTrainingSet(): Promise<{ features: number[][]; targets: number[] }> {
  const swarm = await openExampleSwarm({
    mockAgents: 4,
    // Agents agree on short questions and split on long ones, so the targets vary.
    reply: (prompt, agentIndex) =>
      prompt.length < 40 || agentIndex % 2 === 0 ? 'The textbook answer.' : 'It is uncertain.',
  });
  try {
    const embeddings: EmbeddingPool = swarm.embeddingPool();
    logWithTimestamp(`Sampling a training set on ${swarm.origin}`);
    const vectorsOf = async (texts: string[]) =>
      (await scatterGatherEmbeddings(embeddings, texts)).map((response) => {
        if (!response.success || response.embedding === undefined) {
          throw new Error(`embedding failed: ${response.error}`);
        }
        return response.embedding;
      });
    const features = await vectorsOf(DEMO_PROMPTS);
    const targets: number[] = [];
    for (const prompt of DEMO_PROMPTS) {
      const answers = (await scatterGather(swarm.pool, new Array<string>(8).fill(prompt)))
        .filter((response) => response.success)
        .map((response) => response.text);
      targets.push(semanticEntropy(await vectorsOf(answers)));
    }
    return { features, targets };
  } finally {
    await swarm.close();
  }
}

const { features, targets } =
  hiddenStatesPath !== undefined && targetsPath !== undefined
    ? { features: readNpyMatrix(hiddenStatesPath), targets: readNpyVector(targetsPath) }
    : await sampleTrainingSet();
if (features.length !== targets.length) {
  throw new Error('X rows must match y length.');
}
// Python's train_probe penalises the intercept with the weights: penalizeIntercept.
const probe = trainProbe(features, targets, { lambda: ridgeAlpha, penalizeIntercept: true });
const metadata = {
  ridge_alpha: ridgeAlpha,
  n_prompts: features.length,
  n_features: features[0]?.length ?? 0,
};
if (out !== undefined) {
  saveProbe({ ...probe, metadata }, out);
  logWithTimestamp(`Saved probe to ${out}`);
} else {
  const predictions = predictSemanticEntropy(probe, features);
  targets.forEach((target, index) => {
    console.log(
      `prompt ${index}: target ${target.toFixed(4)}, probe ${predictions[index]!.toFixed(4)}`,
    );
  });
}
logWithTimestamp(`Metadata: ${JSON.stringify(metadata)}`);
