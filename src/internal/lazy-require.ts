/**
 * A dependency loaded on first use rather than when the package is imported. Every module
 * the package root imports is loaded by `import … from 'aurora-swarm'`, and what a module
 * leaves on the heap (its source, its functions) counts several times over in the peak RSS
 * of a busy script: V8 lets the old generation grow to about four times what a full
 * collection finds alive before the next one (bench/README.md, "Client"). So the
 * dependencies that only some entry points need (Redis, the matrix library, the npz reader,
 * Prometheus metrics of the simulated agents) are required here, synchronously, when one of
 * those entry points first runs. All of them ship CommonJS builds.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `() => require(specifier)`, required once, on the first call. */
export function lazyRequire<Module>(specifier: string): () => Module {
  let loaded: Module | undefined;
  return () => {
    loaded ??= require(specifier) as Module;
    return loaded;
  };
}
