/**
 * How a batch-mode scatter splits its prompts, shared by `VLLMPool.sendAllBatched` and the
 * batched path of the patterns so both send exactly the same requests.
 *
 * As the Python original's `send_all_batched`: prompt i belongs to agent i % agentCount, and
 * each agent's share (in input order) is one batch — here cut into batches of at most
 * `batchSize` prompts when one is set.
 */

/** One `/v1/completions` request of a batched scatter. */
export interface PlannedBatch {
  /** The agent (pool numbering) that gets the batch. */
  readonly agentIndex: number;
  /** Input positions of the batch's prompts, ascending. */
  readonly promptIndices: readonly number[];
}

/**
 * The batches of a scatter of `promptCount` prompts over `agentCount` agents, in the order to
 * send them: every agent's first batch, then every agent's second, … (so a window smaller
 * than the number of batches still keeps every agent busy). `batchSize` is a positive
 * integer (`Number.MAX_SAFE_INTEGER` for one batch per agent).
 */
export function planBatches(
  promptCount: number,
  agentCount: number,
  batchSize: number,
): PlannedBatch[] {
  const batches: PlannedBatch[] = [];
  const share = Math.ceil(promptCount / agentCount);
  const rounds = Math.ceil(share / batchSize);
  for (let round = 0; round < rounds; round++) {
    for (let agentIndex = 0; agentIndex < Math.min(agentCount, promptCount); agentIndex++) {
      // The agent's prompts are agentIndex, agentIndex + agentCount, …; this round takes the
      // batchSize of them starting at position round × batchSize of its share.
      const promptIndices: number[] = [];
      const first = agentIndex + round * batchSize * agentCount;
      for (
        let index = first;
        index < promptCount && promptIndices.length < batchSize;
        index += agentCount
      ) {
        promptIndices.push(index);
      }
      if (promptIndices.length > 0) batches.push({ agentIndex, promptIndices });
    }
  }
  return batches;
}
