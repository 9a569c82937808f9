/**
 * `RedisJob` from a script (the package root): a custom handler behind the shared queue,
 * two workers at once, `collect` with `follow` and `trim` while they work.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type AgentResponse,
  InvalidOptionError,
  RedisJob,
  RedisJobError,
} from '../../src/index.js';
import { readJsonLines } from '../cli/cli-test-helpers.js';
import { temporaryDirectory } from '../proxy/proxy-test-helpers.js';
import { waitUntil, writeJobPrompts } from './job-test-helpers.js';
import { skipWithoutRedis, startRedis } from './redis-test-helpers.js';

const SAFETY = { timeout: 120_000 };

/** A handler that answers after the test lets it (no timers): each answer names its worker. */
function gatedHandler(worker: string, gate: { open: Promise<void> }) {
  return async (prompt: { prompt: string }): Promise<AgentResponse> => {
    await gate.open;
    return {
      success: true,
      text: `${worker}: ${prompt.prompt.toUpperCase()}`,
      agentIndex: 0,
      globalIndex: 0,
    };
  };
}

describe('RedisJob, the library', { skip: skipWithoutRedis() }, () => {
  test(
    'two workers with custom handlers and a following, trimming collect: every prompt once',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const directory = temporaryDirectory(t);
      const job = await RedisJob.open({ url: redis.url, name: 'lib', env: {} });
      t.after(() => job.close());
      const submitted = await job.submit(writeJobPrompts(directory, 200));
      assert.deepEqual([submitted.added, submitted.jobTotal], [200, 200]);

      const out = join(directory, 'results.jsonl');
      let release: () => void = () => undefined;
      const gate = { open: new Promise<void>((resolve) => (release = resolve)) };
      const collecting = job.collect(out, { follow: true, trim: true });
      const second = await RedisJob.open({ url: redis.url, name: 'lib', env: {} });
      t.after(() => second.close());
      const working = [
        job.work({ handler: gatedHandler('one', gate), concurrency: 8, leaseSeconds: 5 }),
        second.work({ handler: gatedHandler('two', gate), concurrency: 8, leaseSeconds: 5 }),
      ];
      release();
      const summaries = await Promise.all(working);
      assert.equal(
        summaries.reduce((sum, summary) => sum + summary.recorded, 0),
        200,
        'each prompt recorded by exactly one worker',
      );
      assert.ok(summaries.every((summary) => summary.jobFinished && !summary.interrupted));
      const collected = await collecting;
      assert.deepEqual([collected.written, collected.inFile, collected.trimmed], [200, 200, 200]);
      const records = readJsonLines(out);
      assert.equal(new Set(records.map((record) => record.id)).size, 200);
      assert.ok(
        records.every((record) => /^(one|two): QUESTION NUMBER \d+$/.test(String(record.text))),
      );

      const status = await job.status();
      assert.deepEqual([status.total, status.done, status.trimmed], [200, 200, 200]);
      // Trimmed results live only in the file now: Redis keeps ids and counts, not texts.
      const streamLength = await job.connection.client.xLen('aurora-swarm:job:{lib}:results');
      assert.equal(streamLength, 0);
      const queueLength = await job.connection.client.xLen('aurora-swarm:job:{lib}:queue');
      assert.equal(queueLength, 0, 'successful prompts leave the queue');
      // A rerun into the same file keeps it whole.
      const again = await job.collect(out);
      assert.deepEqual([again.written, again.inFile], [0, 200]);
    },
  );

  test(
    'consumers of dead workers are forgotten once they hold nothing; one holding a lease is kept until it is taken over',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const job = await RedisJob.open({ url: redis.url, name: 'ghosts', env: {} });
      t.after(() => job.close());
      await job.submit(writeJobPrompts(temporaryDirectory(t), 3));
      const { client } = job.connection;
      const queue = 'aurora-swarm:job:{ghosts}:queue';
      const consumers = async () =>
        (await client.xInfoConsumers(queue, 'workers')).map((consumer) => String(consumer.name));
      // Two workers that died: one holding nothing, one holding a lease.
      await client.xGroupCreateConsumer(queue, 'workers', 'ghost');
      await client.xReadGroup('workers', 'holder', { key: queue, id: '>' }, { COUNT: 1 });
      let release: () => void = () => undefined;
      const gate = { open: new Promise<void>((resolve) => (release = resolve)) };
      const working = job.work({
        handler: gatedHandler('live', gate),
        concurrency: 4,
        leaseSeconds: 1,
        workerName: 'live',
      });
      await waitUntil(async () => !(await consumers()).includes('ghost'));
      await waitUntil(async () => !(await consumers()).includes('holder'));
      // The holder went only after its lease had passed to the live worker: nothing was dropped.
      const pending = await client.xPendingRange(queue, 'workers', '-', '+', 10);
      assert.deepEqual(
        pending.map((entry) => String(entry.consumer)),
        ['live', 'live', 'live'],
      );
      release();
      const summary = await working;
      assert.equal(summary.recorded, 3);
      assert.deepEqual(await consumers(), [], 'the live worker leaves the group when done');
    },
  );

  test('misuse throws with stable codes', SAFETY, async (t) => {
    const redis = await startRedis(t);
    await assert.rejects(
      RedisJob.open({ url: redis.url, name: '../x', env: {} }),
      InvalidOptionError,
    );
    await assert.rejects(
      RedisJob.open({ url: 'redis//nope', name: 'x', env: {} }),
      (error: unknown) => error instanceof RedisJobError && error.code === 'ERR_REDIS_URL',
    );
    const job = await RedisJob.open({ name: 'x', env: { AURORA_SWARM_REDIS_URL: redis.url } });
    t.after(() => job.close());
    await assert.rejects(
      job.status(),
      (error: unknown) => error instanceof RedisJobError && error.code === 'ERR_JOB_NOT_FOUND',
    );
    await job.submit(writeJobPrompts(temporaryDirectory(t), 1));
    await assert.rejects(job.work({}), InvalidOptionError);
  });
});
