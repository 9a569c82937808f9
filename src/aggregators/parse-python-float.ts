/**
 * Python's `float(text)` for strings, so that `statistics` reads an answer exactly when, and as,
 * the Python original's `float(r.text.strip())` does.
 */
import { stripPythonWhitespace } from '../internal/python-whitespace.js';

// Digits with single underscores between them (PEP 515), an optional fraction and exponent.
const DIGITS = '\\d(?:_?\\d)*';
const DECIMAL = new RegExp(
  `^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
const UNICODE_DIGIT = /\p{Nd}/u;

/**
 * The number Python's `float(text)` returns, or `undefined` where it raises `ValueError`.
 *
 * Accepted as Python does: surrounding whitespace, a sign, `1_000` (underscores between digits),
 * `.5`, `5.`, exponents, `inf`/`infinity`/`nan` in any case, and decimal digits of any script
 * (`'٣'` is 3). Rejected as Python does: hex, `1,000`, `12 apples`, an empty string. Values are
 * correctly rounded, as both Python and `Number` round decimal strings.
 *
 * @example parsePythonFloat(' 1_000.5 ') // 1000.5
 * @example parsePythonFloat('12 apples') // undefined
 */
export function parsePythonFloat(text: string): number | undefined {
  const ascii = toAsciiDigits(stripPythonWhitespace(text));
  const special = SPECIAL.exec(ascii);
  if (special) {
    if ((special[2] ?? '').toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!DECIMAL.test(ascii)) return undefined;
  return Number(ascii.replaceAll('_', ''));
}

// Unicode assigns decimal digits in contiguous runs 0–9 (a stability guarantee), so a digit's
// value is how many digits precede it in its run, modulo 10.
function toAsciiDigits(text: string): string {
  if (!/[^\p{ASCII}]/u.test(text)) return text;
  let result = '';
  for (const character of text) {
    if (character > '\x7f' && UNICODE_DIGIT.test(character)) {
      let codePoint = character.codePointAt(0) as number;
      let value = 0;
      while (UNICODE_DIGIT.test(String.fromCodePoint(codePoint - 1))) {
        codePoint -= 1;
        value += 1;
      }
      result += String(value % 10);
    } else {
      result += character;
    }
  }
  return result;
}
