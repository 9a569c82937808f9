/**
 * Entry point of the child process that opens N concurrent SSE chat streams and
 * times every event, so the client's CPU is separate from the proxy's.
 *
 * argv[2]: JSON {@link StreamClientOptions}. Prints `STREAMS DONE {...}` with the
 * summary and exits. Every stream is bounded by `deadlineMs`.
 */
import { type ClientRequest, request } from 'node:http';
import { quantileOfSorted } from './stats.js';

/** What the parent asks for. */
export interface StreamClientOptions {
  /** Base URLs, one per agent when direct; one (the proxy) when `prefixAgents` > 0. */
  urls: string[];
  /** Agents behind the proxy; 0 when `urls` are the agents themselves. */
  prefixAgents: number;
  streams: number;
  tokens: number;
  tokenIntervalMs: number;
  /** Give up on the whole run after this long, in milliseconds. */
  deadlineMs: number;
  /** Spread connections over 127.0.0.2..(1+sourceAddresses) so ephemeral ports never run short. */
  sourceAddresses: number;
}

/** What the child reports. */
export interface StreamClientSummary {
  streams: number;
  completed: number;
  failed: number;
  /**
   * Lateness of every event: its arrival minus when it was due, taking as the stream's
   * schedule its most punctual event (event k is due k x interval after token 0 at the
   * agent; the stream's offset is the smallest arrival − k x interval of its events). So
   * a late first token (streams still opening) does not make the later ones look early;
   * always >= 0; all streams of the round pooled, ms.
   */
  latenessMs: { p50: number; p99: number; max: number; count: number };
  /**
   * The same for the events that arrived once every stream of the round had its
   * response headers (all open: the steady phase), ms.
   */
  steadyLatenessMs: { p50: number; p99: number; max: number; count: number };
  /** When the last stream got its headers, ms after the first request was sent. */
  allOpenAtMs: number;
  /** Time from sending the request to the response headers, ms. */
  timeToFirstByteMs: { p50: number; p99: number; max: number };
  /** Time from the first to the last request sent, ms. */
  openSpreadMs: number;
  clientCpuMs: number;
  firstError?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as StreamClientOptions;
const body = JSON.stringify({
  model: 'mock-model',
  messages: [{ role: 'user', content: 'Stream a short answer' }],
  max_tokens: options.tokens,
  stream: true,
});
// Per event: arrival time, and arrival − k x interval (its stream's offset estimate).
const eventArrival = new Float64Array(options.streams * (options.tokens + 1));
const eventOffset = new Float64Array(options.streams * (options.tokens + 1));
const eventStream = new Int32Array(options.streams * (options.tokens + 1));
const streamOffset = new Float64Array(options.streams).fill(Number.POSITIVE_INFINITY);
let eventCount = 0;
let lastHeadersAt = 0;
const firstByte = new Float64Array(options.streams);
let completed = 0;
let firstByteCount = 0;
let settled = 0;
let firstError: string | undefined;
const requests = new Set<ClientRequest>();
const cpuStart = process.cpuUsage();
let firstSentAt = 0;
let lastSentAt = 0;

function summaryOf(values: Float64Array) {
  const sorted = values.sort();
  return {
    p50: quantileOfSorted(sorted, 0.5),
    p99: quantileOfSorted(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    count: sorted.length,
  };
}

const finish = () => {
  for (const pending of requests) pending.destroy();
  const lateness = new Float64Array(eventCount);
  const steady = new Float64Array(eventCount);
  let steadyCount = 0;
  for (let event = 0; event < eventCount; event++) {
    const late =
      (eventOffset[event] as number) - (streamOffset[eventStream[event] as number] as number);
    lateness[event] = late;
    if ((eventArrival[event] as number) >= lastHeadersAt) steady[steadyCount++] = late;
  }
  const sortedFirstByte = firstByte.subarray(0, firstByteCount).sort();
  const cpu = process.cpuUsage(cpuStart);
  const summary: StreamClientSummary = {
    streams: options.streams,
    completed,
    failed: options.streams - completed,
    latenessMs: summaryOf(lateness),
    steadyLatenessMs: summaryOf(steady.subarray(0, steadyCount)),
    allOpenAtMs: lastHeadersAt - firstSentAt,
    timeToFirstByteMs: {
      p50: quantileOfSorted(sortedFirstByte, 0.5),
      p99: quantileOfSorted(sortedFirstByte, 0.99),
      max: sortedFirstByte[sortedFirstByte.length - 1] ?? Number.NaN,
    },
    openSpreadMs: lastSentAt - firstSentAt,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    ...(firstError === undefined ? {} : { firstError }),
  };
  process.stdout.write(`STREAMS DONE ${JSON.stringify(summary)}\n`, () => process.exit(0));
};
const deadline = setTimeout(finish, options.deadlineMs);

function settle(ok: boolean, error?: string): void {
  if (ok) completed++;
  else firstError ??= error;
  settled++;
  if (settled === options.streams) {
    clearTimeout(deadline);
    finish();
  }
}

function openStream(index: number): void {
  const direct = options.prefixAgents === 0;
  const agent = index % (direct ? options.urls.length : options.prefixAgents);
  const base = new URL((direct ? options.urls[agent] : options.urls[0]) as string);
  const path = direct ? '/v1/chat/completions' : `/agent/${agent}/v1/chat/completions`;
  const sentAt = performance.now();
  lastSentAt = sentAt;
  if (index === 0) firstSentAt = sentAt;
  let done = false;
  let event = 0;
  let tokenEvents = 0;
  let pending = '';
  const outgoing = request(
    {
      host: base.hostname,
      port: base.port,
      path,
      method: 'POST',
      agent: false,
      localAddress: `127.0.0.${2 + (index % options.sourceAddresses)}`,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    },
    (response) => {
      const headersAt = performance.now();
      firstByte[firstByteCount++] = headersAt - sentAt;
      if (headersAt > lastHeadersAt) lastHeadersAt = headersAt;
      if (response.statusCode !== 200) {
        done = true;
        response.resume();
        settle(false, `status ${response.statusCode}`);
        return;
      }
      response.setEncoding('utf8');
      response.on('data', (text: string) => {
        const now = performance.now();
        pending += text;
        let boundary = pending.indexOf('\n\n');
        while (boundary !== -1) {
          const frame = pending.slice(0, boundary);
          pending = pending.slice(boundary + 2);
          // Event 0 is the role chunk (sent with token 0); token k is due at k x interval;
          // the finish chunk and [DONE] are due at tokens x interval.
          // Token k is due k x interval after token 0; [DONE] one interval after the last.
          let dueAfterMs: number | undefined;
          if (frame.includes('"content":"') && !frame.includes('"content":""')) {
            dueAfterMs = tokenEvents * options.tokenIntervalMs;
            tokenEvents++;
          } else if (frame === 'data: [DONE]') {
            dueAfterMs = options.tokens * options.tokenIntervalMs;
          }
          if (dueAfterMs !== undefined) {
            const offset = now - dueAfterMs;
            eventArrival[eventCount] = now;
            eventOffset[eventCount] = offset;
            eventStream[eventCount] = index;
            eventCount++;
            if (offset < (streamOffset[index] as number)) streamOffset[index] = offset;
          }
          event++;
          boundary = pending.indexOf('\n\n');
        }
      });
      response.on('end', () => {
        if (done) return;
        done = true;
        const ok = tokenEvents === options.tokens && pending === '' && event > 0;
        settle(ok, ok ? undefined : `incomplete stream: ${tokenEvents} tokens`);
      });
      response.on('error', () => {});
    },
  );
  requests.add(outgoing);
  outgoing.on('close', () => {
    requests.delete(outgoing);
    if (!done) {
      done = true;
      settle(false, 'connection closed early');
    }
  });
  outgoing.on('error', (error) => {
    if (done) return;
    done = true;
    settle(false, error.message);
  });
  outgoing.end(body);
}

for (let index = 0; index < options.streams; index++) openStream(index);
