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
   * Lateness of every event after the first token: arrival minus (arrival of token 0 +
   * k x interval), ms. Measures chunks held back in transit; setup is in timeToFirstByteMs.
   */
  latenessMs: { p50: number; p99: number; max: number; count: number };
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
const lateness = new Float64Array(options.streams * (options.tokens + 1));
let latenessCount = 0;
const firstByte = new Float64Array(options.streams);
let completed = 0;
let firstByteCount = 0;
let settled = 0;
let firstError: string | undefined;
const requests = new Set<ClientRequest>();
const cpuStart = process.cpuUsage();
let firstSentAt = 0;
let lastSentAt = 0;

const finish = () => {
  for (const pending of requests) pending.destroy();
  const sortedLateness = lateness.subarray(0, latenessCount).sort();
  const sortedFirstByte = firstByte.subarray(0, firstByteCount).sort();
  const cpu = process.cpuUsage(cpuStart);
  const summary: StreamClientSummary = {
    streams: options.streams,
    completed,
    failed: options.streams - completed,
    latenessMs: {
      p50: quantileOfSorted(sortedLateness, 0.5),
      p99: quantileOfSorted(sortedLateness, 0.99),
      max: sortedLateness[sortedLateness.length - 1] ?? Number.NaN,
      count: latenessCount,
    },
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
  let firstTokenAt = 0;
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
      firstByte[firstByteCount++] = performance.now() - sentAt;
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
          if (frame.includes('"content":"') && !frame.includes('"content":""')) {
            if (tokenEvents === 0) firstTokenAt = now;
            else
              lateness[latenessCount++] =
                now - firstTokenAt - tokenEvents * options.tokenIntervalMs;
            tokenEvents++;
          } else if (frame === 'data: [DONE]') {
            lateness[latenessCount++] =
              now - firstTokenAt - options.tokens * options.tokenIntervalMs;
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
