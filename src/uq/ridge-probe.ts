import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { assertVectors } from './embedding-vectors.js';
import { mlMatrix } from './ml-matrix.js';

/** Ridge penalty used unless told otherwise. */
export const DEFAULT_PROBE_LAMBDA = 1.0;

/** Whether probes fit an (unpenalised) intercept unless told otherwise. */
export const DEFAULT_PROBE_FIT_INTERCEPT = true;

/**
 * A linear probe predicting semantic entropy from features (for example a
 * hidden state or an embedding of the prompt): `prediction = weights · x + intercept`.
 * Plain JSON, so it can be stored with {@link saveProbe}.
 */
export interface Probe {
  /** Marks the JSON as a probe. */
  kind: 'ridge-probe';
  /** Format version of the stored probe. */
  version: 1;
  /** One weight per feature. */
  weights: number[];
  /** Constant term; 0 when trained with `fitIntercept: false`. */
  intercept: number;
  /**
   * Ridge penalty it was trained with; `null` when unknown (a probe saved by the Python
   * original without `ridge_alpha` in its metadata).
   */
  lambda: number | null;
  /** Whether an intercept was fitted. */
  fitIntercept: boolean;
  /** Whether the intercept was penalised too (the Python original's `train_probe`); absent means no. */
  penalizeIntercept?: boolean;
  /** Free-form metadata, e.g. the Python original's sidecar `.npz.json`. */
  metadata?: Record<string, unknown>;
}

/** Options of {@link trainProbe}. */
export interface TrainProbeOptions {
  /** Ridge penalty λ ≥ 0 on the weights (never on the intercept). @default 1.0 */
  lambda?: number;
  /** Fit a constant term by centring features and targets. @default true */
  fitIntercept?: boolean;
  /**
   * Penalise the intercept like every weight, exactly as the Python original's `train_probe`
   * does (a column of ones appended, `(XᵀX + λI)β = Xᵀy` over all of β), so a ported script gets
   * the same coefficients. Needs `fitIntercept`.
   * @default false (the intercept is not shrunk towards 0)
   */
  penalizeIntercept?: boolean;
}

/**
 * Fit a ridge-regression probe in closed form: minimise
 * `‖y − Xw − b‖² + λ‖w‖²`, solving `(XcᵀXc + λI) w = Xcᵀyc` on centred data
 * with ml-matrix, then `b = ȳ − x̄·w`. With λ = 0 the (possibly singular)
 * system is solved by SVD, giving the minimum-norm least-squares fit.
 *
 * @param features - one feature vector per example, all the same length.
 * @param targets - the semantic entropy (or any target) of each example.
 * @throws {InvalidOptionError} for empty, ragged or non-finite input, a length
 *   mismatch, a negative or non-finite lambda, or a non-boolean fitIntercept.
 * @example const probe = trainProbe(hiddenStates, entropies, { lambda: 0.1 });
 */
export function trainProbe(
  features: readonly (readonly number[])[],
  targets: readonly number[],
  options: TrainProbeOptions = {},
): Probe {
  const { lambda, fitIntercept, penalizeIntercept } = resolveTrainProbeOptions(options);
  const dimension = assertVectors('trainProbe', 'features', features);
  if (!Array.isArray(targets) || targets.length !== features.length) {
    throw new InvalidOptionError(
      `trainProbe: targets must be an array with one number per feature row (${features.length}), got ${Array.isArray(targets) ? `${targets.length} targets` : describeValue(targets)}`,
    );
  }
  targets.forEach((target, index) => {
    if (typeof target !== 'number' || !Number.isFinite(target)) {
      throw new InvalidOptionError(
        `trainProbe: targets[${index}] must be a finite number, got ${describeValue(target)}`,
      );
    }
  });

  if (penalizeIntercept) return trainPenalizedIntercept(features, targets, lambda);
  const { Matrix, solve } = mlMatrix();
  const design = new Matrix(features.map((row) => [...row]));
  const response = Matrix.columnVector([...targets]);
  const featureMeans = fitIntercept ? design.mean('column') : new Array<number>(dimension).fill(0);
  const targetMean = fitIntercept ? response.mean() : 0;
  if (fitIntercept) {
    design.subRowVector(featureMeans);
    response.sub(targetMean);
  }
  const transposed = design.transpose();
  const gram = transposed.mmul(design);
  for (let index = 0; index < dimension; index++)
    gram.set(index, index, gram.get(index, index) + lambda);
  const weights = solve(gram, transposed.mmul(response), lambda === 0).to1DArray();
  const intercept =
    targetMean - weights.reduce((sum, weight, index) => sum + weight * featureMeans[index]!, 0);
  return { kind: 'ridge-probe', version: 1, weights, intercept, lambda, fitIntercept };
}

/**
 * Predict with a probe: a list of feature vectors gives one prediction each
 * (an empty list gives `[]`); a single feature vector gives one number.
 * Predictions are the raw linear output (not clipped at 0).
 *
 * @throws {InvalidOptionError} when the probe is malformed or a vector's length
 *   differs from the probe's number of weights.
 * @example predictSemanticEntropy(probe, [features]) // [0.83]
 */
export function predictSemanticEntropy(probe: Probe, features: readonly number[]): number;
export function predictSemanticEntropy(
  probe: Probe,
  features: readonly (readonly number[])[],
): number[];
export function predictSemanticEntropy(
  probe: Probe,
  features: readonly number[] | readonly (readonly number[])[],
): number | number[] {
  const checked = toProbe(probe, 'predictSemanticEntropy: probe');
  if (!Array.isArray(features)) {
    throw new InvalidOptionError(
      `predictSemanticEntropy: features must be a number array or an array of them, got ${describeValue(features)}`,
    );
  }
  if (features.length === 0) return [];
  const isBatch = Array.isArray(features[0]);
  const rows = (isBatch ? features : [features]) as readonly (readonly number[])[];
  const dimension = assertVectors(
    'predictSemanticEntropy',
    isBatch ? 'features' : '[features]',
    rows,
  );
  if (dimension !== checked.weights.length) {
    throw new InvalidOptionError(
      `predictSemanticEntropy: features have ${dimension} dimensions but the probe has ${checked.weights.length} weights`,
    );
  }
  const predictions = rows.map((row) =>
    checked.weights.reduce((sum, weight, index) => sum + weight * row[index]!, checked.intercept),
  );
  return isBatch ? predictions : predictions[0]!;
}

/**
 * Check that `value` has the shape of a {@link Probe} and return it typed.
 * `where` prefixes error messages (e.g. the file it came from).
 * @internal
 */
export function toProbe(value: unknown, where: string): Probe {
  const fail = (message: string): never => {
    throw new InvalidOptionError(`${where}: ${message}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`expected a probe object, got ${describeValue(value)}`);
  }
  const record = value as Record<string, unknown>;
  if (record.kind !== 'ridge-probe') {
    fail(`field "kind" must be "ridge-probe", got ${describeValue(record.kind)}`);
  }
  if (record.version !== 1) fail(`field "version" must be 1, got ${describeValue(record.version)}`);
  const weights = record.weights;
  if (
    !Array.isArray(weights) ||
    weights.length === 0 ||
    !weights.every((weight) => typeof weight === 'number' && Number.isFinite(weight))
  ) {
    fail(
      `field "weights" must be a non-empty array of finite numbers, got ${describeValue(weights)}`,
    );
  }
  if (typeof record.intercept !== 'number' || !Number.isFinite(record.intercept)) {
    fail(`field "intercept" must be a finite number, got ${describeValue(record.intercept)}`);
  }
  if (
    record.lambda !== null &&
    (typeof record.lambda !== 'number' || !Number.isFinite(record.lambda))
  ) {
    fail(`field "lambda" must be a finite number or null, got ${describeValue(record.lambda)}`);
  }
  if (typeof record.fitIntercept !== 'boolean') {
    fail(`field "fitIntercept" must be a boolean, got ${describeValue(record.fitIntercept)}`);
  }
  if (record.penalizeIntercept !== undefined && typeof record.penalizeIntercept !== 'boolean') {
    fail(
      `field "penalizeIntercept" must be a boolean, got ${describeValue(record.penalizeIntercept)}`,
    );
  }
  const metadata = record.metadata;
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  ) {
    fail(`field "metadata" must be an object, got ${describeValue(metadata)}`);
  }
  const probe: Probe = {
    kind: 'ridge-probe',
    version: 1,
    weights: [...(weights as number[])],
    intercept: record.intercept as number,
    lambda: record.lambda as number | null,
    fitIntercept: record.fitIntercept as boolean,
  };
  if (record.penalizeIntercept !== undefined) {
    probe.penalizeIntercept = record.penalizeIntercept as boolean;
  }
  if (metadata !== undefined) probe.metadata = metadata as Record<string, unknown>;
  return probe;
}

function resolveTrainProbeOptions(options: TrainProbeOptions): Required<TrainProbeOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      `trainProbe: options must be an object, got ${describeValue(options)}`,
    );
  }
  const lambda = options.lambda ?? DEFAULT_PROBE_LAMBDA;
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
    throw new InvalidOptionError(
      `trainProbe: option "lambda" must be a finite number >= 0, got ${describeValue(lambda)}`,
    );
  }
  const fitIntercept = options.fitIntercept ?? DEFAULT_PROBE_FIT_INTERCEPT;
  if (typeof fitIntercept !== 'boolean') {
    throw new InvalidOptionError(
      `trainProbe: option "fitIntercept" must be a boolean, got ${describeValue(fitIntercept)}`,
    );
  }
  const penalizeIntercept = options.penalizeIntercept ?? false;
  if (typeof penalizeIntercept !== 'boolean') {
    throw new InvalidOptionError(
      `trainProbe: option "penalizeIntercept" must be a boolean, got ${describeValue(penalizeIntercept)}`,
    );
  }
  if (penalizeIntercept && !fitIntercept) {
    throw new InvalidOptionError(
      'trainProbe: option "penalizeIntercept" needs fitIntercept: true (there is no intercept to penalise)',
    );
  }
  return { lambda, fitIntercept, penalizeIntercept };
}

// The Python original's train_probe: β = (X̃ᵀX̃ + λI)⁻¹X̃ᵀy with X̃ = [1, X], the intercept
// penalised like every weight; a singular system falls back to least squares (SVD here, as
// numpy's lstsq).
function trainPenalizedIntercept(
  features: readonly (readonly number[])[],
  targets: readonly number[],
  lambda: number,
): Probe {
  const { Matrix, solve } = mlMatrix();
  const design = new Matrix(features.map((row) => [1, ...row]));
  const transposed = design.transpose();
  const gram = transposed.mmul(design);
  for (let index = 0; index < gram.rows; index++) {
    gram.set(index, index, gram.get(index, index) + lambda);
  }
  const beta = solve(
    gram,
    transposed.mmul(Matrix.columnVector([...targets])),
    lambda === 0,
  ).to1DArray();
  return {
    kind: 'ridge-probe',
    version: 1,
    weights: beta.slice(1),
    intercept: beta[0] as number,
    lambda,
    fitIntercept: true,
    penalizeIntercept: true,
  };
}
