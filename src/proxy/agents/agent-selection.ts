/**
 * Choosing the agent of a pooled request (`/v1/*`): an optional tag filter
 * (`X-Agent-Tag: role=worker`), then either the session's agent by rendezvous
 * hashing (`X-Session-Id`) or the less loaded of two random agents ("power of two
 * choices": nearly as good as scanning for the least loaded, at O(1) and without
 * herding every request onto the same momentarily idle agent).
 */

/** What the selection needs of an agent. */
export interface SelectableAgent {
  /** Requests sent to the agent and not finished. */
  readonly stats: { readonly inFlight: number };
  /** Hash of the agent's `host:port`, so session pinning survives index changes. */
  readonly hashSeed: number;
  /** The agent's hostfile tags. */
  readonly endpoint: { readonly tags: Readonly<Record<string, string>> };
}

/** A parsed `X-Agent-Tag` filter: every `key=value` pair must match. */
export interface AgentTagFilter {
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** Canonical text (`key=value,key=value`, sorted), a cache key. */
  readonly text: string;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
export function hashText(text: string): number {
  let hash = FNV_OFFSET;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** MurmurHash3's finalizer: spreads every input bit over the output. */
function mix(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * Parse `X-Agent-Tag` values: `key=value` pairs separated by commas (or given as
 * repeated headers), all of which must match. Returns the filter, or an error
 * message for a malformed value.
 */
export function parseAgentTagFilter(values: readonly string[]): AgentTagFilter | string {
  const pairs: Array<[string, string]> = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const item = part.trim();
      const equals = item.indexOf('=');
      const key = equals < 0 ? '' : item.slice(0, equals).trim();
      const tagValue = equals < 0 ? '' : item.slice(equals + 1).trim();
      if (key === '' || tagValue === '' || /\s/.test(key) || /\s/.test(tagValue)) {
        return `invalid X-Agent-Tag header ${JSON.stringify(value)}: expected key=value (several separated by commas)`;
      }
      pairs.push([key, tagValue]);
    }
  }
  if (pairs.length === 0) {
    return 'invalid X-Agent-Tag header "": expected key=value (several separated by commas)';
  }
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { pairs, text: pairs.map(([key, value]) => `${key}=${value}`).join(',') };
}

/** Whether an agent's tags satisfy `filter`. */
export function matchesTagFilter(
  tags: Readonly<Record<string, string>>,
  filter: AgentTagFilter,
): boolean {
  for (const [key, value] of filter.pairs) {
    if (!Object.hasOwn(tags, key) || tags[key] !== value) return false;
  }
  return true;
}

/**
 * Power of two choices: of two distinct random candidates, the one with fewer
 * requests in flight (the first on a tie). `undefined` when there is none.
 */
export function pickLeastInFlight<Agent extends SelectableAgent>(
  candidates: readonly Agent[],
  random: () => number = Math.random,
): Agent | undefined {
  const count = candidates.length;
  if (count <= 1) return candidates[0];
  const first = Math.floor(random() * count);
  let second = Math.floor(random() * (count - 1));
  if (second >= first) second++;
  const a = candidates[first] as Agent;
  const b = candidates[second] as Agent;
  return b.stats.inFlight < a.stats.inFlight ? b : a;
}

/**
 * Rendezvous (highest random weight) hashing: the candidate whose combined hash
 * with the session is highest. When candidates come or go, only the sessions of
 * those agents move. `undefined` when there is none.
 */
export function pickBySession<Agent extends SelectableAgent>(
  candidates: readonly Agent[],
  sessionId: string,
): Agent | undefined {
  const sessionHash = mix(hashText(sessionId));
  let best: Agent | undefined;
  let bestScore = -1;
  for (const candidate of candidates) {
    const score = mix(sessionHash ^ candidate.hashSeed);
    if (score > bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best;
}
