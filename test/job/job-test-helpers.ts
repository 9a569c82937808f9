/** Helpers of the job tests: prompts files, condition waits, and reading a job's state. */
import { setTimeout as delay } from 'node:timers/promises';
import type { JobStatus } from '../../src/job/job-status.js';
import { RedisJob } from '../../src/job/redis-job.js';
import { writePrompts } from '../cli/cli-test-helpers.js';

/** Write `count` JSONL prompts `q0`…; returns the path (the CLI tests' writePrompts). */
export const writeJobPrompts = writePrompts;

/**
 * Resolve once `condition` holds, checking every 50 ms (a condition wait, not a timed
 * sleep: the test's own timeout bounds it).
 */
export async function waitUntil(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await delay(50);
}

/** The job's status, read through a short-lived connection. */
export async function readStatus(url: string, name: string): Promise<JobStatus> {
  const job = await RedisJob.open({ url, name, env: {} });
  try {
    return await job.status();
  } finally {
    await job.close();
  }
}

/** Pending (leased) entries of each worker of a job, by worker name. */
export async function leasesByWorker(url: string, name: string): Promise<Map<string, number>> {
  const job = await RedisJob.open({ url, name, env: {} });
  try {
    const summary = await job.connection.client.xPending(
      `aurora-swarm:job:{${name}}:queue`,
      'workers',
    );
    return new Map(
      (summary.consumers ?? []).map((consumer) => [
        String(consumer.name),
        Number(consumer.deliveriesCounter),
      ]),
    );
  } finally {
    await job.close();
  }
}

/** The pending (leased) entries of a job's queue: id, holder and deliveries so far. */
export async function pendingEntries(
  url: string,
  name: string,
): Promise<Array<{ id: string; consumer: string; deliveries: number }>> {
  const job = await RedisJob.open({ url, name, env: {} });
  try {
    const entries = await job.connection.client.xPendingRange(
      `aurora-swarm:job:{${name}}:queue`,
      'workers',
      '-',
      '+',
      10_000,
    );
    return entries.map((entry) => ({
      id: String(entry.id),
      consumer: String(entry.consumer),
      deliveries: Number(entry.deliveriesCounter),
    }));
  } finally {
    await job.close();
  }
}

/** The consumers of a job's group (live workers, and dead ones not forgotten yet). */
export async function consumersOf(url: string, name: string): Promise<string[]> {
  const job = await RedisJob.open({ url, name, env: {} });
  try {
    const consumers = await job.connection.client.xInfoConsumers(
      `aurora-swarm:job:{${name}}:queue`,
      'workers',
    );
    return consumers.map((consumer) => String(consumer.name)).sort();
  } finally {
    await job.close();
  }
}
