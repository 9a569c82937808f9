/**
 * Format a value for an error message: strings quoted, numbers and booleans as they
 * are, everything else as JSON followed by its type (`[1,2] (array)`), or `a <type>`
 * when JSON cannot show it (a cycle). Internal helper of the validation messages.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === undefined) return 'undefined';
  try {
    return `${JSON.stringify(value)} (${Array.isArray(value) ? 'array' : typeof value})`;
  } catch {
    return `a ${typeof value}`;
  }
}
