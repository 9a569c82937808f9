/**
 * A queued prompt as a worker holds it. Its result is written with run's `toResultRecord`
 * (run/result-file.ts), so that `job collect` writes what tools reading `run` output read.
 */
import type { PromptId } from '../run/prompt-file.js';

/** A prompt leased by a worker. */
export interface JobPrompt {
  /** Id of its queue entry (the lease is on this entry). */
  entryId: string;
  /** `promptIdKey(id)`, the prompt's key in every hash of the job. */
  key: string;
  /** The id as written in the prompts file. */
  id: PromptId;
  /** 1-based line of the prompts file it was submitted from. */
  line: number;
  prompt: string;
}

/** The id back from its key: `#12` is the number 12, `"q1` the string `q1`. */
export function promptIdFromKey(key: string): PromptId {
  return key.startsWith('#') ? Number(key.slice(1)) : key.slice(1);
}

/** The queue entry's fields (`k`, `l`, `p`) as a prompt, or undefined for a malformed entry. */
export function jobPromptOf(
  entryId: string,
  fields: Record<string, string | undefined>,
): JobPrompt | undefined {
  const { k: key, l: line, p: prompt } = fields;
  if (key === undefined || prompt === undefined) return undefined;
  return { entryId, key, id: promptIdFromKey(key), line: Number(line), prompt };
}
