/**
 * Finding the JSON object in an agent's answer. Models wrap JSON in prose and in
 * Markdown fences, so the whole text, then each ```json (or bare ```) fence, then
 * the outermost `{...}` span are tried in that order.
 */

/** A JSON object found in a text, or why none was found. */
export type ExtractedJsonObject =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; reason: string };

// Info string: `json`, `JSON`, `jsonc`, or nothing. Other languages (```python) are not JSON.
const FENCE = /```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n([\s\S]*?)```/g;

/**
 * The first JSON object in `text`: the whole text, a ```json or bare ``` fenced
 * block, or the span from the first `{` to the last `}`.
 * @internal
 */
export function extractJsonObject(text: string): ExtractedJsonObject {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'empty text' };

  const failures: string[] = [];
  const attempt = (candidate: string, where: string): Record<string, unknown> | undefined => {
    const parsed = parseJson(candidate);
    if (!parsed.ok) {
      failures.push(`${where}: invalid JSON (${parsed.reason})`);
      return undefined;
    }
    if (isPlainObject(parsed.value)) return parsed.value;
    failures.push(`${where}: JSON ${kindOf(parsed.value)}, expected an object`);
    return undefined;
  };

  // Only report the whole-text failure when the text looked like JSON; prose
  // failing to parse says nothing useful.
  const looksLikeJson = /^[[{]/.test(trimmed);
  const whole = looksLikeJson ? attempt(trimmed, 'text') : undefined;
  if (whole) return { ok: true, value: whole };

  for (const block of jsonFencedBlocks(trimmed)) {
    const found = attempt(block.body, block.tagged ? '```json block' : '``` block');
    if (found) return { ok: true, value: found };
  }

  const start = trimmed.indexOf('{');
  const end = trimmed.lastIndexOf('}');
  if (failures.length === 0 && start !== -1 && end > start) {
    const found = attempt(trimmed.slice(start, end + 1), '{...} span');
    if (found) return { ok: true, value: found };
  }

  return {
    ok: false,
    reason: failures.length > 0 ? failures.join('; ') : 'no JSON object found in the text',
  };
}

/**
 * The fenced blocks of `text` that may hold JSON, in order: those tagged `json` (any case, also
 * `jsonc`) and untagged ones; blocks in other languages are left out.
 * @internal
 */
export function jsonFencedBlocks(text: string): { body: string; tagged: boolean }[] {
  const blocks: { body: string; tagged: boolean }[] = [];
  for (const match of text.matchAll(FENCE)) {
    const language = (match[1] ?? '').toLowerCase();
    if (language !== '' && !language.startsWith('json')) continue;
    blocks.push({ body: match[2] ?? '', tagged: language !== '' });
  }
  return blocks;
}

/** A JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
