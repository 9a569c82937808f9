/**
 * One mark a prompt of a prompts file (e.g. "has a result"), kept beside the prompts' id set
 * instead of a second set of keys: reading a results file of a million lines for a resume then
 * costs one byte a prompt, not another copy of every id. Keys that are not the file's prompts
 * (results of another prompts file) go to a set of their own, so duplicates among them are
 * still found.
 */
import { CompactStringSet } from '../internal/compact-string-set.js';
import type { ResultKeys } from './result-file.js';

export class PromptMarks implements ResultKeys {
  readonly #ids: CompactStringSet;
  readonly #marks: Uint8Array;
  readonly #others: CompactStringSet;
  #marked = 0;

  /** @param ids the prompts' keys (entry i is the i-th prompt of the file). */
  constructor(
    ids: CompactStringSet,
    newSet: () => CompactStringSet = () => new CompactStringSet(),
  ) {
    this.#ids = ids;
    this.#marks = new Uint8Array(ids.size);
    this.#others = newSet();
  }

  has(key: string): boolean {
    const entry = this.#ids.entryOf(key);
    return entry >= 0 ? this.#marks[entry] === 1 : this.#others.has(key);
  }

  add(key: string): this {
    const entry = this.#ids.entryOf(key);
    if (entry < 0) this.#others.add(key);
    else if (this.#marks[entry] === 0) {
      this.#marks[entry] = 1;
      this.#marked++;
    }
    return this;
  }

  /** Whether prompt entry `entry` is marked. */
  isMarked(entry: number): boolean {
    return this.#marks[entry] === 1;
  }

  /** Prompts of the file that are marked. */
  get marked(): number {
    return this.#marked;
  }

  /** Keys added that are not the file's prompts. */
  get others(): number {
    return this.#others.size;
  }
}
