/**
 * The Lua scripts of a shared job. Each one is a step that must happen all at once or not
 * at all (Redis runs a script atomically and writes its effects to the append-only file as
 * one transaction), and each is idempotent, so a worker may send it again after a lost
 * connection without changing the outcome.
 */
import type * as Redis from '@redis/client';
import type { CommandParser } from '@redis/client';
import type { ArrayReply, NumberReply } from '@redis/client/dist/lib/RESP/types.js';
import { type JobKeys, WORKER_GROUP } from './job-keys.js';
import { redisClient } from './redis-client.js';

/** One prompt as `submit` sends it to Redis. */
export interface QueuedPrompt {
  /** `promptIdKey(id)`: `#12` for the number 12, `"q1` for the string `q1`. */
  key: string;
  /** Digest of the prompt text: the same id with another text is a clash. */
  digest: string;
  /** 1-based line of the prompts file. */
  line: number;
  prompt: string;
}

/**
 * The scripts, as node-redis `scripts` (sent by SHA, loaded on first use), built on the first
 * call: their definitions need @redis/client, which is loaded only by a job (lazy-require.ts).
 */
export function jobScripts() {
  jobScriptsBuilt ??= buildJobScripts(redisClient().defineScript);
  return jobScriptsBuilt;
}

let jobScriptsBuilt: ReturnType<typeof buildJobScripts> | undefined;

function buildJobScripts(defineScript: typeof Redis.defineScript) {
  /**
   * Add prompts whose id is new. An id already there with the same digest is skipped; one
   * with another digest stops the batch: reply `{added, clashIndex}` (clashIndex -1: none).
   */
  const SUBMIT_BATCH = defineScript({
    NUMBER_OF_KEYS: 3,
    SCRIPT: `
local added = 0
for i = 1, #ARGV, 4 do
  local key, digest = ARGV[i], ARGV[i + 1]
  local existing = redis.call('HGET', KEYS[1], key)
  if not existing then
    redis.call('HSET', KEYS[1], key, digest)
    redis.call('XADD', KEYS[2], '*', 'k', key, 'l', ARGV[i + 2], 'p', ARGV[i + 3])
    added = added + 1
  elseif existing ~= digest then
    redis.call('HINCRBY', KEYS[3], 'total', added)
    return {added, (i - 1) / 4}
  end
end
redis.call('HINCRBY', KEYS[3], 'total', added)
return {added, -1}`,
    parseCommand(parser: CommandParser, keys: JobKeys, prompts: readonly QueuedPrompt[]) {
      parser.pushKeys([keys.ids, keys.queue, keys.meta]);
      for (const prompt of prompts) {
        parser.push(prompt.key, prompt.digest, String(prompt.line), prompt.prompt);
      }
    },
    transformReply: undefined as unknown as () => ArrayReply<NumberReply>,
  });

  /**
   * Record a prompt's result unless it has one (another worker may have finished it after its
   * lease passed on): acknowledge the queue entry, add the result to the results stream,
   * count it. A success's queue entry (with the prompt text) is deleted at once; a failure's
   * is kept for `retry-failed`. Reply 1 when recorded, 0 when the prompt already had a result.
   */
  const COMPLETE = defineScript({
    NUMBER_OF_KEYS: 5,
    SCRIPT: `
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
if redis.call('EXISTS', KEYS[4]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[1], ARGV[3], ARGV[4]) == 0 then return 0 end
local resultId = redis.call('XADD', KEYS[3], '*', 'k', ARGV[3], 'r', ARGV[5])
redis.call('HINCRBY', KEYS[4], 'done', 1)
if ARGV[4] == 's' then
  redis.call('HINCRBY', KEYS[4], 'succeeded', 1)
  redis.call('XDEL', KEYS[2], ARGV[2])
else
  redis.call('HINCRBY', KEYS[4], 'failed', 1)
  redis.call('HSET', KEYS[5], ARGV[3], ARGV[2] .. ' ' .. resultId)
end
return 1`,
    parseCommand(
      parser: CommandParser,
      keys: JobKeys,
      entryId: string,
      key: string,
      succeeded: boolean,
      record: string,
    ) {
      parser.pushKeys([keys.done, keys.queue, keys.results, keys.meta, keys.failed]);
      parser.push(WORKER_GROUP, entryId, key, succeeded ? 's' : 'f', record);
    },
    transformReply: undefined as unknown as () => NumberReply,
  });

  /**
   * Put failed prompts back in the queue: a new queue entry with the same fields, the old
   * entry and the failed result deleted, the counts lowered. Keys without a failure are
   * skipped. Reply: how many were requeued.
   */
  const REQUEUE_FAILED = defineScript({
    NUMBER_OF_KEYS: 5,
    SCRIPT: `
local requeued = 0
for i = 1, #ARGV do
  local key = ARGV[i]
  local ids = redis.call('HGET', KEYS[1], key)
  if ids then
    local queueId, resultId = string.match(ids, '^(%S+) (%S+)$')
    local entries = redis.call('XRANGE', KEYS[3], queueId, queueId)
    if entries[1] then
      redis.call('XADD', KEYS[3], '*', unpack(entries[1][2]))
      redis.call('XDEL', KEYS[3], queueId)
      redis.call('XDEL', KEYS[4], resultId)
      redis.call('HDEL', KEYS[2], key)
      redis.call('HDEL', KEYS[1], key)
      redis.call('HINCRBY', KEYS[5], 'done', -1)
      redis.call('HINCRBY', KEYS[5], 'failed', -1)
      requeued = requeued + 1
    end
  end
end
return requeued`,
    parseCommand(parser: CommandParser, keys: JobKeys, failedKeys: readonly string[]) {
      parser.pushKeys([keys.failed, keys.done, keys.queue, keys.results, keys.meta]);
      parser.push(...failedKeys);
    },
    transformReply: undefined as unknown as () => NumberReply,
  });

  /**
   * A worker's heartbeat, stamped with the Redis server's clock (workers on two clusters need
   * not agree on the time). Reply: the server time in milliseconds.
   */
  const HEARTBEAT = defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: `
local now = redis.call('TIME')
local ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ms .. ' ' .. ARGV[2])
return ms`,
    parseCommand(parser: CommandParser, keys: JobKeys, worker: string, state: string) {
      parser.pushKey(keys.workers);
      parser.push(worker, state);
    },
    transformReply: undefined as unknown as () => NumberReply,
  });

  /**
   * Take over expired leases: the pending entries idle for at least a lease (their worker
   * died or stalled), from `cursor` on, `count` at most. Each is claimed for `consumer`
   * (XCLAIM counts one more delivery); one already delivered `maxDeliveries` times is not
   * to be sent again but recorded as failed. Reply `{nextCursor, claimed, exhausted}`:
   * `claimed` entries `{id, fields}`, `exhausted` entries `{id, fields, deliveries, lastConsumer}`,
   * `nextCursor` `-` once the scan has gone round.
   */
  const CLAIM_EXPIRED = defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: `
local count = tonumber(ARGV[5])
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], ARGV[4], '+', count)
local claimed, exhausted = {}, {}
local last = nil
for _, p in ipairs(pending) do
  last = p[1]
  local entries = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], p[1])
  local entry = entries[1]
  if entry then
    if p[4] >= tonumber(ARGV[6]) then
      exhausted[#exhausted + 1] = {entry[1], entry[2], p[4], p[2]}
    else
      claimed[#claimed + 1] = entry
    end
  end
end
local nextCursor = '-'
if #pending == count and last then nextCursor = '(' .. last end
return {nextCursor, claimed, exhausted}`,
    parseCommand(
      parser: CommandParser,
      keys: JobKeys,
      consumer: string,
      leaseMs: number,
      cursor: string,
      count: number,
      maxDeliveries: number,
    ) {
      parser.pushKey(keys.queue);
      parser.push(
        WORKER_GROUP,
        consumer,
        String(leaseMs),
        cursor,
        String(count),
        String(maxDeliveries),
      );
    },
    transformReply: undefined as unknown as () => ArrayReply<unknown>,
  });

  /**
   * Hand leases back (a worker stopping in order): each entry `consumer` holds becomes
   * claimable at once (idle for a whole lease), and the delivery it had is not counted, as
   * it did not end in a crash. Reply: how many.
   */
  const HAND_BACK = defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: `
local handed = 0
for i = 4, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if p[1] then
    local deliveries = math.max(p[1][4] - 1, 0)
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'RETRYCOUNT', deliveries, 'JUSTID')
    handed = handed + 1
  end
end
return handed`,
    parseCommand(
      parser: CommandParser,
      keys: JobKeys,
      consumer: string,
      leaseMs: number,
      ids: readonly string[],
    ) {
      parser.pushKey(keys.queue);
      parser.push(WORKER_GROUP, consumer, String(leaseMs), ...ids);
    },
    transformReply: undefined as unknown as () => NumberReply,
  });

  /**
   * Forget the consumers of dead workers: a consumer with nothing pending (its leases were
   * taken over, or it had none) and no command for longer than `idleMs` is deleted from the
   * group. Deleting it loses nothing (it holds no entry); a live worker it might belong to
   * is recreated by its next read. Reply: how many were deleted.
   */
  const FORGET_IDLE_CONSUMERS = defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: `
local forgotten = 0
for _, flat in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #flat, 2 do info[flat[i]] = flat[i + 1] end
  if info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) and info['name'] ~= ARGV[3] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    forgotten = forgotten + 1
  end
end
return forgotten`,
    parseCommand(parser: CommandParser, keys: JobKeys, idleMs: number, self: string) {
      parser.pushKey(keys.queue);
      parser.push(WORKER_GROUP, String(idleMs), self);
    },
    transformReply: undefined as unknown as () => NumberReply,
  });

  return {
    submitBatch: SUBMIT_BATCH,
    complete: COMPLETE,
    requeueFailed: REQUEUE_FAILED,
    heartbeat: HEARTBEAT,
    claimExpired: CLAIM_EXPIRED,
    handBack: HAND_BACK,
    forgetIdleConsumers: FORGET_IDLE_CONSUMERS,
  };
}
