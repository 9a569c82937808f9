/**
 * The simulated agents' tokenizer: prompts are counted at four characters a token (the
 * pools' own estimate, so context sizing can be tested exactly), and every token has an
 * id that turns back into its text, so `/tokenize`, `/detokenize` and token-id prompts
 * agree with each other without a vocabulary file.
 *
 * A token is up to four consecutive code points below U+2000, packed into one integer
 * (base 8193, so it stays below 2^53); any other code point is a token of its own.
 */

const NARROW_LIMIT = 0x2000;
const BASE = NARROW_LIMIT + 1;
const CHUNK = 4;
/** Ids from here on are single wide code points. */
const WIDE_OFFSET = BASE ** CHUNK;
/** Largest id the tokenizer can produce: its vocabulary size minus one. */
export const MAX_TOKEN_ID = WIDE_OFFSET + 0x10ffff;

/** The tokens of `text`, as strings that concatenate back to it. */
export function tokenStrings(text: string): string[] {
  const tokens: string[] = [];
  let chunk = '';
  let size = 0;
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (codePoint >= NARROW_LIMIT) {
      if (size > 0) tokens.push(chunk);
      tokens.push(char);
      chunk = '';
      size = 0;
      continue;
    }
    chunk += char;
    size++;
    if (size === CHUNK) {
      tokens.push(chunk);
      chunk = '';
      size = 0;
    }
  }
  if (size > 0) tokens.push(chunk);
  return tokens;
}

/** Number of tokens of `text` (the length of {@link encodeTokens}). */
export function countTokens(text: string): number {
  return tokenStrings(text).length;
}

/** Token ids of `text`. */
export function encodeTokens(text: string): number[] {
  return tokenStrings(text).map(tokenId);
}

/** The text of `ids`, or the first id that is not a token. */
export function decodeTokens(ids: readonly unknown[]): { text: string } | { invalid: unknown } {
  let text = '';
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_TOKEN_ID) {
      return { invalid: id };
    }
    if (id >= WIDE_OFFSET) {
      text += String.fromCodePoint(id - WIDE_OFFSET);
      continue;
    }
    let rest = id;
    while (rest > 0) {
      const digit = rest % BASE;
      if (digit === 0) return { invalid: id };
      text += String.fromCodePoint(digit - 1);
      rest = Math.floor(rest / BASE);
    }
  }
  return { text };
}

function tokenId(token: string): number {
  const codePoints = [...token].map((char) => char.codePointAt(0) ?? 0);
  const first = codePoints[0] ?? 0;
  if (codePoints.length === 1 && first >= NARROW_LIMIT) return WIDE_OFFSET + first;
  let id = 0;
  for (let index = codePoints.length - 1; index >= 0; index--) {
    id = id * BASE + (codePoints[index] ?? 0) + 1;
  }
  return id;
}
