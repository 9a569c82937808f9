/**
 * `GET /metrics`: Prometheus text with vLLM's metric names, fed by the agent's real
 * queue and counters.
 *
 * Names and help texts follow vllm/v1/metrics/loggers.py (`PrometheusStatLogger`):
 * `vllm:num_requests_running`, `vllm:num_requests_waiting`, `vllm:kv_cache_usage_perc`
 * (v0.10.0 and before: `vllm:gpu_cache_usage_perc`), `vllm:prompt_tokens_total`,
 * `vllm:generation_tokens_total`, `vllm:request_success_total{finished_reason}`, labelled
 * `engine` and `model_name` (v0.10.0's V0 engine: `model_name` only). The KV-cache gauge
 * is the simulation's stand-in: running generations over `maxNumSeqs`.
 */

import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Registry } from 'prom-client';
import { lazyRequire } from '../internal/lazy-require.js';
import type { GenerationSlots } from './generation-slots.js';
import type { MockAgentBehavior, VllmDialect } from './mock-behavior.js';
import type { MockExchange, ServingCounters } from './mock-exchange.js';
import { answerModel } from './vllm-models.js';

/** prom-client, loaded when a simulated agent first serves `/metrics` (internal/lazy-require.ts). */
const promClient = lazyRequire<typeof PromClient>('prom-client');

/** One agent's `/metrics`. */
export class AgentMetrics {
  readonly #slots: GenerationSlots;
  readonly #counters: ServingCounters;
  readonly #behavior: () => Readonly<MockAgentBehavior>;
  #registry: Registry | undefined;
  #dialect: VllmDialect | undefined;

  constructor(
    slots: GenerationSlots,
    counters: ServingCounters,
    behavior: () => Readonly<MockAgentBehavior>,
  ) {
    this.#slots = slots;
    this.#counters = counters;
    this.#behavior = behavior;
  }

  /** Answer `GET /metrics`. */
  serve(exchange: MockExchange): void {
    const registry = this.#registryFor(exchange.behavior.vllmVersion);
    void registry.metrics().then((text) => {
      if (exchange.response.destroyed) return;
      exchange.response.writeHead(200, {
        'content-type': registry.contentType,
        'content-length': Buffer.byteLength(text),
      });
      exchange.response.end(text);
    });
  }

  #registryFor(dialect: VllmDialect): Registry {
    if (this.#registry !== undefined && this.#dialect === dialect) return this.#registry;
    const { Counter, Gauge, Registry } = promClient();
    const registry = new Registry();
    const slots = this.#slots;
    const counters = this.#counters;
    const behavior = this.#behavior;
    const labelNames = dialect === 'legacy' ? ['model_name'] : ['engine', 'model_name'];
    const labels = () =>
      dialect === 'legacy'
        ? { model_name: answerModel(behavior()) }
        : { engine: '0', model_name: answerModel(behavior()) };
    const series: Array<[typeof Gauge | typeof Counter, string, string, () => number]> = [
      [
        Gauge,
        'vllm:num_requests_running',
        'Number of requests in model execution batches.',
        () => slots.running,
      ],
      [
        Gauge,
        'vllm:num_requests_waiting',
        'Number of requests waiting to be processed.',
        () => slots.waiting,
      ],
      [
        Gauge,
        dialect === 'legacy' ? 'vllm:gpu_cache_usage_perc' : 'vllm:kv_cache_usage_perc',
        'KV-cache usage. 1 means 100 percent usage.',
        () => Math.min(1, slots.running / behavior().maxNumSeqs),
      ],
      [
        Counter,
        'vllm:prompt_tokens_total',
        'Number of prefill tokens processed.',
        () => counters.promptTokens,
      ],
      [
        Counter,
        'vllm:generation_tokens_total',
        'Number of generation tokens processed.',
        () => counters.generationTokens,
      ],
    ];
    for (const [Metric, name, help, value] of series) {
      new Metric({
        name,
        help,
        labelNames,
        registers: [registry],
        collect(this: Gauge | Counter) {
          this.reset();
          if (this instanceof Gauge) this.set(labels(), value());
          else this.inc(labels(), value());
        },
      });
    }
    new Counter({
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: [...labelNames, 'finished_reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, count] of counters.finished) {
          this.inc({ ...labels(), finished_reason: reason }, count);
        }
      },
    });
    this.#registry = registry;
    this.#dialect = dialect;
    return registry;
  }
}
