/** ml-matrix, loaded on the first eigendecomposition or least-squares fit (internal/lazy-require.ts). */
import type * as MlMatrix from 'ml-matrix';
import { lazyRequire } from '../internal/lazy-require.js';

/** The ml-matrix module. */
export const mlMatrix = lazyRequire<typeof MlMatrix>('ml-matrix');
