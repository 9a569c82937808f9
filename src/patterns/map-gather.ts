/**
 * Map-gather: one prompt per item from a template, then scatter-gather.
 */

import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { fillTemplate, formatTemplateValue } from '../internal/fill-template.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import { assertString, assertSwarmPool, type ScatterOptions } from './pattern-options.js';
import { scatterGatherAs } from './scatter-gather.js';

/** Options of `mapGather`: see `ScatterOptions` (`dispatch`, `hedgeAfterMs`, `window`…). */
export type MapGatherOptions = ScatterOptions;

/**
 * Fill `{item}` of `template` with each item (strings as they are, objects as JSON, anything
 * else via `String`), then `scatterGather` the prompts: item i goes to agent `i % pool.size`
 * (or the least-loaded agent, with `dispatch: 'least-loaded'`), answers in input order. On a
 * pool in batch mode the prompts go out as `/v1/completions` prompt lists, as
 * `scatterGather`'s.
 *
 * @throws InvalidOptionError if `items` is not an array or `template` is not a string.
 * @example
 * const responses = await mapGather(pool, ['BRCA1', 'TP53'], 'Summarise the function of {item}.');
 */
export async function mapGather(
  pool: SwarmPool,
  items: readonly unknown[],
  template: string,
  options?: MapGatherOptions,
): Promise<AgentResponse[]> {
  assertSwarmPool(pool, 'mapGather');
  if (!Array.isArray(items)) {
    throw new InvalidOptionError(`mapGather: items must be an array, got ${describeValue(items)}`);
  }
  assertString(template, 'template', 'mapGather');
  const prompts = items.map((item) => fillTemplate(template, { item: formatTemplateValue(item) }));
  return scatterGatherAs('mapGather', pool, prompts, options);
}
