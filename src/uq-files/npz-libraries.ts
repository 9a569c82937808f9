/** fflate and npyjs, loaded on the first `.npy`/`.npz` read (internal/lazy-require.ts). */
import type * as Fflate from 'fflate';
import type * as Npyjs from 'npyjs';
import { lazyRequire } from '../internal/lazy-require.js';

/** fflate (zip archives: `.npz`). */
export const fflate = lazyRequire<typeof Fflate>('fflate');
/** npyjs (`.npy` arrays). */
export const npyjs = lazyRequire<typeof Npyjs>('npyjs');
