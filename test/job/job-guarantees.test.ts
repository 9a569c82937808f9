/**
 * The guarantees of a shared job, with the built bin as separate worker processes against a
 * real redis-server: a worker killed with SIGKILL mid-job, redis-server restarted mid-job
 * (append-only file on), SIGTERM/SIGINT on a worker, and the worker's proxy going away.
 * Every case ends with `collect` giving every prompt exactly once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { type MockSwarm, startMockSwarm } from '../../src/mock/mock-swarm.js';
import {
  readJsonLines,
  scriptedIo,
  startStallingSwarm,
  startVanishingSwarm,
} from '../cli/cli-test-helpers.js';
import {
  MAIN_BIN,
  type ProxyProcess,
  proxyUrlOf,
  spawnProxy,
  temporaryDirectory,
  writeHostfile,
} from '../proxy/proxy-test-helpers.js';
import {
  consumersOf,
  leasesByWorker,
  pendingEntries,
  readStatus,
  waitUntil,
  writeJobPrompts,
} from './job-test-helpers.js';
import { skipWithoutRedis, startRedis } from './redis-test-helpers.js';

const SAFETY = { timeout: 180_000 };

function spawnWorker(
  t: TestContext,
  args: string[],
  env: Record<string, string> = {},
): ProxyProcess {
  return spawnProxy(t, ['job', 'work', '--model', 'meta-llama/Llama-3.1-70B-Instruct', ...args], {
    bin: MAIN_BIN,
    env,
  });
}

/** Collect in-process and check every one of `count` prompts is there exactly once, a success. */
async function assertCollectedOnce(redisUrl: string, jobName: string, out: string, count: number) {
  const io = scriptedIo({ AURORA_SWARM_REDIS_URL: redisUrl });
  assert.equal(
    await runAuroraSwarm(['job', 'collect', '--job', jobName, '--out', out], io.io),
    0,
    io.stderr(),
  );
  const records = readJsonLines(out);
  assert.equal(records.length, count, 'one line per prompt');
  const ids = new Set(records.map((record) => record.id));
  assert.equal(ids.size, count, 'no prompt twice');
  for (let index = 0; index < count; index++) assert.ok(ids.has(`q${index}`), `q${index}`);
  const failures = records.filter((record) => record.success !== true);
  assert.deepEqual(failures, [], 'no failure');
}

async function submit(t: TestContext, redisUrl: string, jobName: string, count: number) {
  const directory = temporaryDirectory(t);
  const io = scriptedIo({ AURORA_SWARM_REDIS_URL: redisUrl });
  const prompts = writeJobPrompts(directory, count);
  assert.equal(await runAuroraSwarm(['job', 'submit', '--job', jobName, '-i', prompts], io.io), 0);
  return { directory, out: join(directory, 'results.jsonl') };
}

/**
 * Agents that answer `answered` chat requests, then hang every request: the prompts a worker
 * holds are then in flight (the CLI tests' stalling swarm, with its hostfile).
 */
async function stallingSwarm(t: TestContext, answered: number) {
  const { swarm, release } = await startStallingSwarm(t, answered);
  return { swarm, release, hostfile: writeHostfile(t, swarm.hostfileText) };
}

/**
 * Agents with latency `fastMs` for the first `fastReplies` answers, then `slowMs`: the
 * event under test (a kill, a restart) happens while the job is far from finished,
 * whatever the machine's speed. `speedUp()` goes back to `fastMs`.
 */
async function slowingSwarm(
  t: TestContext,
  options: { fastMs: number; fastReplies: number; slowMs: number },
): Promise<{ swarm: MockSwarm; hostfile: string; speedUp(): void }> {
  let replies = 0;
  const swarm: MockSwarm = await startMockSwarm({
    count: 4,
    recordLimit: 0,
    behavior: {
      latencyMs: options.fastMs,
      reply: (prompt, agentIndex) => {
        replies++;
        if (replies === options.fastReplies) {
          for (const agent of swarm.agents) agent.setBehavior({ latencyMs: options.slowMs });
        }
        return `agent ${agentIndex}: ${prompt}`;
      },
    },
  });
  t.after(() => swarm.close());
  return {
    swarm,
    hostfile: writeHostfile(t, swarm.hostfileText),
    speedUp: () => {
      for (const agent of swarm.agents) agent.setBehavior({ latencyMs: options.fastMs });
    },
  };
}

describe('aurora-swarm job guarantees, separate worker processes', {
  skip: skipWithoutRedis(),
}, () => {
  test(
    'three workers, one killed with SIGKILL mid-job: the others take its leases over and finish; collect has every prompt once',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const { hostfile } = await slowingSwarm(t, { fastMs: 20, fastReplies: 100, slowMs: 300 });
      const { out } = await submit(t, redis.url, 'k9', 600);
      const env = { AURORA_SWARM_REDIS_URL: redis.url };
      const args = ['--job', 'k9', '-f', hostfile, '-c', '8', '--lease', '2'];
      const workers = ['a', 'b', 'c'].map((name) => spawnWorker(t, [...args, '--name', name], env));
      await waitUntil(
        async () =>
          (await readStatus(redis.url, 'k9')).done >= 100 &&
          ((await leasesByWorker(redis.url, 'k9')).get('a') ?? 0) > 0,
      );
      const victim = workers[0] as ProxyProcess;
      victim.child.kill('SIGKILL');
      assert.equal(await victim.exited, null);
      const held = (await leasesByWorker(redis.url, 'k9')).get('a') ?? 0;
      assert.ok(held > 0, 'the killed worker held leases');
      for (const worker of workers.slice(1)) {
        assert.equal(await worker.exited, 0, worker.stderrLines.join('\n'));
        assert.match(worker.stdout(), /done: every prompt of the job has a result/);
      }
      const status = await readStatus(redis.url, 'k9');
      assert.deepEqual(
        [status.total, status.done, status.failed, status.in_flight],
        [600, 600, 0, 0],
      );
      assert.equal(
        (await leasesByWorker(redis.url, 'k9')).get('a') ?? 0,
        0,
        'its leases were taken over',
      );
      await assertCollectedOnce(redis.url, 'k9', out, 600);
      assert.deepEqual(
        await consumersOf(redis.url, 'k9'),
        [],
        "the killed worker's consumer is gone too",
      );
    },
  );

  test(
    'redis-server restarted mid-job (append-only file): workers say so once, carry on, nothing lost or doubled',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t, { appendOnly: true, password: 'restart-secret' });
      const { hostfile, speedUp } = await slowingSwarm(t, {
        fastMs: 20,
        fastReplies: 100,
        slowMs: 3000,
      });
      const { out } = await submit(t, redis.url, 'restart', 500);
      const env = { AURORA_SWARM_REDIS_URL: redis.url };
      const args = ['--job', 'restart', '-f', hostfile, '-c', '8', '--lease', '30'];
      const workers = ['a', 'b'].map((name) => spawnWorker(t, [...args, '--name', name], env));
      // Both workers must be at work (holding leases) before Redis goes: a worker that has
      // not reached Redis yet when it stops fails its start, as it should, instead of
      // waiting the outage out (seen under load).
      await waitUntil(async () => {
        const leases = await leasesByWorker(redis.url, 'restart');
        return (
          (await readStatus(redis.url, 'restart')).done >= 100 &&
          (leases.get('a') ?? 0) > 0 &&
          (leases.get('b') ?? 0) > 0
        );
      });
      await redis.stop();
      for (const worker of workers) await worker.waitForLine(/Redis at \S+ is unreachable/);
      speedUp();
      await redis.start();
      for (const worker of workers) {
        assert.equal(await worker.exited, 0, worker.stderrLines.join('\n'));
        const outageLines = worker.stderrLines.filter((line) =>
          /unreachable|reconnect|ECONN/i.test(line),
        );
        assert.equal(outageLines.length, 1, outageLines.join('\n'));
        assert.match(
          outageLines[0] ?? '',
          /^aurora-swarm job work: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ is unreachable/,
        );
        assert.match(worker.stdout(), /Redis was unreachable 1 time\(s\)/);
      }
      const status = await readStatus(redis.url, 'restart');
      assert.deepEqual([status.total, status.done, status.succeeded], [500, 500, 500]);
      await assertCollectedOnce(redis.url, 'restart', out, 500);
    },
  );

  test(
    'SIGTERM on a worker: stops pulling, hands its prompts back at once, exits 130',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const { release, hostfile } = await stallingSwarm(t, 4);
      const { out } = await submit(t, redis.url, 'term', 40);
      const env = { AURORA_SWARM_REDIS_URL: redis.url };
      // A lease of 10 minutes: the second worker finishes only if the prompts were handed back.
      const args = ['--job', 'term', '-f', hostfile, '-c', '6', '--lease', '600'];
      const first = spawnWorker(t, [...args, '--name', 'first'], env);
      // The answered prompts are recorded and the agents hang: the rest is in flight.
      await waitUntil(
        async () =>
          (await readStatus(redis.url, 'term')).done >= 4 &&
          ((await leasesByWorker(redis.url, 'term')).get('first') ?? 0) >= 6,
      );
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 130, first.stderrLines.join('\n'));
      assert.ok(
        first.stderrLines.some((line) =>
          /SIGTERM: stopping; prompts in flight go back to the queue/.test(line),
        ),
      );
      assert.match(
        first.stdout(),
        /interrupted: \d+ prompt\(s\) in flight handed back to the queue/,
      );
      const status = await readStatus(redis.url, 'term');
      assert.equal(status.done, 4, 'only the answered prompts have a result');
      assert.equal(status.workers.length, 0, 'the worker left the job');
      release();
      const second = spawnWorker(t, [...args, '--name', 'second'], env);
      assert.equal(await second.exited, 0, second.stderrLines.join('\n'));
      await assertCollectedOnce(redis.url, 'term', out, 40);
    },
  );

  test('SIGINT on an in-process worker: exit 130, the prompts held go back', SAFETY, async (t) => {
    const redis = await startRedis(t);
    const { hostfile } = await stallingSwarm(t, 2);
    await submit(t, redis.url, 'int', 10);
    const io = scriptedIo({ AURORA_SWARM_REDIS_URL: redis.url });
    const running = runAuroraSwarm(
      [
        'job',
        'work',
        '--job',
        'int',
        '-f',
        hostfile,
        '--model',
        'meta-llama/Llama-3.1-70B-Instruct',
        '-c',
        '4',
        '--lease',
        '600',
        '--name',
        'w',
      ],
      io.io,
    );
    await waitUntil(
      async () =>
        (await readStatus(redis.url, 'int')).done >= 2 &&
        ((await leasesByWorker(redis.url, 'int')).get('w') ?? 0) >= 4,
    );
    io.signal('SIGINT');
    io.signal('SIGINT');
    assert.equal(await running, 130, io.stderr());
    assert.match(io.stderr(), /aurora-swarm job work: SIGINT: stopping; prompts in flight go back/);
    assert.match(io.stderr(), /aurora-swarm job work: SIGINT again: already stopping/);
    const handedBack = Number(
      /interrupted: (\d+) prompt\(s\) in flight handed back/.exec(io.stdout())?.[1],
    );
    assert.ok(handedBack >= 4, io.stdout());
    const status = await readStatus(redis.url, 'int');
    assert.equal(status.done, 2, 'only the answered prompts have a result');
    assert.equal(status.in_flight, handedBack, 'pending until another worker claims them');
    const pending = await pendingEntries(redis.url, 'int');
    assert.equal(pending.length, handedBack);
    assert.ok(
      pending.every((entry) => entry.deliveries === 0),
      'a delivery handed back in order does not count towards --max-deliveries',
    );
    assert.deepEqual(status.workers, []);
  });

  test(
    'a worker whose proxy goes away pauses, fails nothing, and carries on when it is back',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const { hostfile, speedUp } = await slowingSwarm(t, {
        fastMs: 20,
        fastReplies: 50,
        slowMs: 3000,
      });
      const proxyArgs = ['-f', hostfile, '--host', '127.0.0.1'];
      const proxy = spawnProxy(t, [...proxyArgs, '-p', '0']);
      const proxyUrl = await proxyUrlOf(proxy);
      const port = new URL(proxyUrl).port;
      const { out } = await submit(t, redis.url, 'outage', 300);
      const worker = spawnWorker(
        t,
        ['--job', 'outage', '--proxy', proxyUrl, '-c', '8', '--lease', '30'],
        {
          AURORA_SWARM_REDIS_URL: redis.url,
        },
      );
      await waitUntil(async () => (await readStatus(redis.url, 'outage')).done >= 50);
      proxy.child.kill('SIGKILL');
      await proxy.exited;
      await worker.waitForLine(/the proxy at \S+ is unreachable: waiting/);
      speedUp();
      const restarted = spawnProxy(t, [...proxyArgs, '-p', port]);
      await proxyUrlOf(restarted);
      assert.equal(await worker.exited, 0, worker.stderrLines.join('\n'));
      const outageLines = worker.stderrLines.filter((line) => /unreachable/.test(line));
      assert.equal(outageLines.length, 1, outageLines.join('\n'));
      assert.match(
        worker.stdout(),
        /\(300 succeeded, 0 failed\)|recorded \d+ result\(s\) \(\d+ succeeded, 0 failed\)/,
      );
      assert.match(worker.stdout(), /\d+ held back by an outage and sent again/);
      // run's own lines, under the worker's prefix.
      assert.match(
        outageLines[0] ?? '',
        /^aurora-swarm job work: the proxy at \S+ is unreachable: waiting, retrying every 1s to 10s for up to 10m00s \(--outage-timeout\); Ctrl-C to stop, rerun resumes$/,
      );
      assert.ok(
        worker.stderrLines.some((line) =>
          /^aurora-swarm job work: the proxy at \S+ answers again after \d+s: carrying on \(\d+ prompt\(s\) held back are sent again\)$/.test(
            line,
          ),
        ),
        worker.stderrLines.join('\n'),
      );
      const status = await readStatus(redis.url, 'outage');
      assert.deepEqual([status.done, status.failed], [300, 0]);
      await assertCollectedOnce(redis.url, 'outage', out, 300);
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    },
  );
  test(
    'direct mode (--hostfile): every agent unreachable is an outage too; the worker waits, fails nothing, finishes',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const { swarm, restore } = await startVanishingSwarm(t, 30);
      const hostfile = writeHostfile(t, swarm.hostfileText);
      const { out } = await submit(t, redis.url, 'direct', 200);
      const io = scriptedIo({ AURORA_SWARM_REDIS_URL: redis.url });
      const working = runAuroraSwarm(
        ['job', 'work', '--job', 'direct', '-f', hostfile, '-c', '16', '--lease', '30'],
        io.io,
      );
      await io.waitForStderr(
        /^aurora-swarm job work: none of the agents can be reached: waiting, retrying every 1s to 10s/,
      );
      assert.equal((await readStatus(redis.url, 'direct')).failed, 0, 'nothing failed meanwhile');
      restore();
      assert.equal(await working, 0, io.stderr());
      assert.match(io.stderr(), /the agents answer again after \d+s: carrying on/);
      assert.match(io.stdout(), /\(200 succeeded, 0 failed\)/);
      await assertCollectedOnce(redis.url, 'direct', out, 200);
    },
  );

  test(
    'a proxy outage longer than --outage-timeout: exit 130, prompts handed back, nothing failed; another worker finishes',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      const { hostfile } = await slowingSwarm(t, { fastMs: 20, fastReplies: 20, slowMs: 200 });
      const proxy = spawnProxy(t, ['-f', hostfile, '--host', '127.0.0.1', '-p', '0']);
      const proxyUrl = await proxyUrlOf(proxy);
      const { out } = await submit(t, redis.url, 'gone', 100);
      const io = scriptedIo({ AURORA_SWARM_REDIS_URL: redis.url });
      const args = ['--job', 'gone', '-c', '8', '--lease', '600'];
      const working = runAuroraSwarm(
        ['job', 'work', ...args, '--proxy', proxyUrl, '--outage-timeout', '2'],
        io.io,
      );
      await waitUntil(async () => (await readStatus(redis.url, 'gone')).done >= 20);
      proxy.child.kill('SIGKILL');
      await proxy.exited;
      assert.equal(await working, 130, io.stderr());
      assert.match(
        io.stderr(),
        /aurora-swarm job work: the proxy at \S+ has been unreachable for \ds \(--outage-timeout\): stopping; rerun the same command to resume/,
      );
      const handedBack = Number(
        /interrupted: (\d+) prompt\(s\) in flight handed back/.exec(io.stdout())?.[1],
      );
      assert.ok(handedBack > 0, io.stdout());
      const status = await readStatus(redis.url, 'gone');
      assert.equal(status.failed, 0, 'the outage failed no prompt');
      assert.equal(status.in_flight, handedBack, 'handed back, claimable at once');
      // A lease of 10 minutes: the next worker finishes only because they were handed back.
      const direct = scriptedIo({ AURORA_SWARM_REDIS_URL: redis.url });
      assert.equal(
        await runAuroraSwarm(['job', 'work', ...args, '-f', hostfile], direct.io),
        0,
        direct.stderr(),
      );
      await assertCollectedOnce(redis.url, 'gone', out, 100);
    },
  );

  test(
    'a prompt that stalls every worker it is given to: after --max-deliveries kill -9s it is recorded as failed, the job finishes',
    SAFETY,
    async (t) => {
      const redis = await startRedis(t);
      // With one prompt at a time, the 20th request is the one the agents never answer.
      const { hostfile } = await stallingSwarm(t, 19);
      const { out } = await submit(t, redis.url, 'poison', 20);
      const env = { AURORA_SWARM_REDIS_URL: redis.url };
      const args = ['--job', 'poison', '-f', hostfile, '-c', '1', '--lease', '1'];
      const maxDeliveries = ['--max-deliveries', '3'];
      let poison: string | undefined;
      for (const name of ['w1', 'w2', 'w3']) {
        const worker = spawnWorker(t, [...args, ...maxDeliveries, '--name', name], env);
        await waitUntil(
          async () =>
            (await readStatus(redis.url, 'poison')).done === 19 &&
            (await leasesByWorker(redis.url, 'poison')).get(name) === 1,
        );
        const held = await pendingEntries(redis.url, 'poison');
        assert.equal(held.length, 1);
        poison ??= held[0]?.id;
        assert.equal(held[0]?.id, poison, 'the same prompt every time');
        worker.child.kill('SIGKILL');
        assert.equal(await worker.exited, null);
      }
      // Three deliveries, three dead workers: the next worker records it instead of dying too.
      const last = spawnWorker(t, [...args, ...maxDeliveries, '--name', 'w4'], env);
      assert.equal(await last.exited, 0, last.stderrLines.join('\n'));
      const notice = last.stderrLines.find((line) => /recorded as failed/.test(line)) ?? '';
      assert.match(
        notice,
        /^aurora-swarm job work: prompt "q\d+" recorded as failed: delivered 3 times without a result \(each worker holding it died or stalled first; the last was w3\): not sent again/,
      );
      assert.match(
        last.stdout(),
        /done: every prompt of the job has a result; this worker recorded 1 result\(s\) \(0 succeeded, 1 failed\)/,
      );
      const status = await readStatus(redis.url, 'poison');
      assert.deepEqual(
        [status.total, status.done, status.failed, status.in_flight],
        [20, 20, 1, 0],
      );

      const io = scriptedIo(env);
      assert.equal(
        await runAuroraSwarm(['job', 'collect', '--job', 'poison', '--out', out], io.io),
        0,
      );
      const records = readJsonLines(out);
      assert.equal(records.length, 20);
      assert.equal(new Set(records.map((record) => record.id)).size, 20);
      const failed = records.filter((record) => record.success !== true);
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.failure_kind, 'delivery-limit');
      assert.equal(failed[0]?.agent, -1);
      assert.match(String(failed[0]?.error), /delivered 3 times without a result/);
      assert.deepEqual(await consumersOf(redis.url, 'poison'), [], 'no dead consumer left');
    },
  );
});
