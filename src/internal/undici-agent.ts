/**
 * undici's `Agent` and its request API (`request`, `stream`, `pipeline`, …) without the rest
 * of undici's index (fetch, web streams, the cache, the mock agents, the proxy agents): a pool
 * needs only the dispatcher, and the index costs ~3 MB more live heap (~8 MB RSS at start),
 * which V8 then multiplies into the old generation's size under load (bench/README.md,
 * "Client"). The modules are undici's own (the CommonJS cache), so they are the very objects
 * `import { Agent } from 'undici'` gives, whichever is loaded first. `undiciIndex()` loads the
 * whole index on first use (e.g. fetch's `Headers` and `Response` for `pool.request`).
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);
const dispatcherClass = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
// What undici's index does when loaded: the request API on every dispatcher.
Object.assign(dispatcherClass.prototype, require('undici/lib/api/index.js'));

/** undici's `Agent`. */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
/** An undici `Agent`. */
export type Agent = Undici.Agent;

/** undici's whole index, loaded on the first call. */
export function undiciIndex(): typeof Undici {
  return require('undici') as typeof Undici;
}
