/** @redis/client (node-redis), loaded when a job first connects (internal/lazy-require.ts). */
import type * as Redis from '@redis/client';
import { lazyRequire } from '../internal/lazy-require.js';

/** The @redis/client module. */
export const redisClient = lazyRequire<typeof Redis>('@redis/client');
