/**
 * How much of a blackboard goes into a prompt: all of it, the last N entries of each section,
 * and/or at most a number of characters in total.
 */
import { assertPositiveInteger } from './pattern-options.js';

/** Contents of a blackboard: section name → entries, oldest first. */
export type BoardState = Record<string, string[]>;

/** Bounds on the part of the board shown to `promptFn`. Without any, the whole board is shown. */
export interface BoardViewOptions {
  /** Keep only the newest `lastPerSection` entries of each section; a positive integer. */
  lastPerSection?: number;
  /**
   * Keep at most this many characters of entries in total (after `lastPerSection`), dropping
   * whole entries oldest first; if the newest entry alone is longer, it is cut to its first
   * `maxCharacters` characters. A positive integer.
   */
  maxCharacters?: number;
}

/** Check board view options; `functionName` prefixes error messages. */
export function validateBoardViewOptions(
  view: BoardViewOptions | undefined,
  functionName: string,
): void {
  if (view === undefined) return;
  if (view.lastPerSection !== undefined) {
    assertPositiveInteger(view.lastPerSection, 'boardView.lastPerSection', functionName);
  }
  if (view.maxCharacters !== undefined) {
    assertPositiveInteger(view.maxCharacters, 'boardView.maxCharacters', functionName);
  }
}

interface Entry {
  section: string;
  position: number;
  text: string;
  order: number;
}

/**
 * A bounded copy of `board`. `orders[section][i]` is the sequence number at which entry i was
 * written (so "oldest" is well defined across sections); the board itself is not modified.
 */
export function viewBoard(
  board: Readonly<BoardState>,
  orders: Readonly<Record<string, number[]>>,
  view: BoardViewOptions | undefined,
): BoardState {
  const entries: Entry[] = [];
  for (const [section, texts] of Object.entries(board)) {
    const first =
      view?.lastPerSection === undefined ? 0 : Math.max(0, texts.length - view.lastPerSection);
    for (let position = first; position < texts.length; position += 1) {
      entries.push({
        section,
        position,
        text: texts[position] as string,
        order: orders[section]?.[position] ?? position,
      });
    }
  }
  let kept = entries;
  const maxCharacters = view?.maxCharacters;
  if (maxCharacters !== undefined) {
    const newestFirst = [...entries].sort((left, right) => right.order - left.order);
    kept = [];
    let total = 0;
    for (const entry of newestFirst) {
      if (total + entry.text.length <= maxCharacters) {
        kept.push(entry);
        total += entry.text.length;
      } else {
        if (kept.length === 0) kept.push({ ...entry, text: entry.text.slice(0, maxCharacters) });
        break;
      }
    }
    kept.sort((left, right) => left.order - right.order);
  }
  const result: BoardState = {};
  for (const section of Object.keys(board)) result[section] = [];
  const bySection = [...kept].sort((left, right) => left.position - right.position);
  for (const entry of bySection) (result[entry.section] as string[]).push(entry.text);
  return result;
}
