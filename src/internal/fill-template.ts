/**
 * Placeholder substitution for pattern templates (`{item}`, `{input}`, `{responses}`, `{level}`).
 *
 * Substitution is one pass over the template: a value is inserted verbatim and never scanned
 * again, so an agent answer that itself contains `{level}` or `{responses}` survives unchanged
 * (the Python original replaced placeholders one after another and corrupted such answers).
 */

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replace every `{name}` of `template` whose name is a key of `values`; other braces stay as written.
 * Replacement strings are inserted literally (`$&` and friends have no special meaning).
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (placeholder: string, name: string) =>
    Object.hasOwn(values, name) ? (values[name] as string) : placeholder,
  );
}

/**
 * How a non-string value is written into a template: strings as they are, objects and arrays
 * as JSON (more useful to a model than `[object Object]`), everything else via `String`.
 */
export function formatTemplateValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}
