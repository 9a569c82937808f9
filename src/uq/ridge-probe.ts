import { Matrix, solve } from 'ml-matrix';
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { assertVectors } from './embedding-vectors.js';

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
  /** Ridge penalty it was trained with. */
  lambda: number;
  /** Whether an intercept was fitted. */
  fitIntercept: boolean;
}

/** Options of {@link trainProbe}. */
export interface TrainProbeOptions {
  /** Ridge penalty λ ≥ 0 on the weights (never on the intercept). @default 1.0 */
  lambda?: number;
  /** Fit a constant term by centring features and targets. @default true */
  fitIntercept?: boolean;
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
  const { lambda, fitIntercept } = resolveTrainProbeOptions(options);
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
  for (const field of ['intercept', 'lambda'] as const) {
    if (typeof record[field] !== 'number' || !Number.isFinite(record[field])) {
      fail(`field "${field}" must be a finite number, got ${describeValue(record[field])}`);
    }
  }
  if (typeof record.fitIntercept !== 'boolean') {
    fail(`field "fitIntercept" must be a boolean, got ${describeValue(record.fitIntercept)}`);
  }
  return {
    kind: 'ridge-probe',
    version: 1,
    weights: [...(weights as number[])],
    intercept: record.intercept as number,
    lambda: record.lambda as number,
    fitIntercept: record.fitIntercept as boolean,
  };
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
  return { lambda, fitIntercept };
}
