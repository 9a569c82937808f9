/**
 * Format a value for an error message: strings quoted, numbers and booleans as they
 * are, everything else as JSON followed by its type (`[1,2] (array)`), or its kind
 * when JSON cannot show it (`a function`, `a symbol`, `an object` with a cycle).
 * Internal helper of the validation messages.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === undefined) return 'undefined';
  try {
    const json: string | undefined = JSON.stringify(value);
    // JSON shows no function or symbol (stringify gives undefined for them).
    if (json !== undefined) return `${json} (${Array.isArray(value) ? 'array' : typeof value})`;
  } catch {
    // A cycle: named below.
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
