/**
 * Python's notion of whitespace, for the places where we must read text exactly as the Python
 * original did (`str.strip()` in its hostfile parser, `majority_vote` and `statistics`).
 *
 * It differs from JavaScript's `trim()`: Python also strips U+001C–U+001F and U+0085 (NEL), and
 * does not strip U+FEFF (the byte order mark).
 */

// Py_UNICODE_ISSPACE: the characters CPython's str.isspace() accepts.
const WHITESPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING = new RegExp(`^[${WHITESPACE}]+`);
const TRAILING = new RegExp(`[${WHITESPACE}]+$`);

/**
 * `text` without leading and trailing whitespace as Python's `str.strip()` (no arguments) removes it.
 * @example stripPythonWhitespace('\u0085 yes \t') // 'yes'
 */
export function stripPythonWhitespace(text: string): string {
  return text.replace(LEADING, '').replace(TRAILING, '');
}
