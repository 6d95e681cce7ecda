// Prometheus metrics of the gateway: requests by revision and code, their latency (buckets to
// 60 s), requests waiting per revision, and cold starts (arrival at a revision with no ready pod
// until the request is on its way to one). Labels are namespace and revision, bounded by the
// revisions the cluster has: a deleted revision's series are removed.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COLD_START_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 30, 60];

type Labels = 'namespace' | 'revision';

export class GatewayMetrics {
  private readonly requests: Counter<Labels | 'code'>;
  private readonly latency: Histogram<Labels>;
  private readonly coldStarts: Histogram<Labels>;
  private readonly refused: Counter<'reason'>;
  private readonly statsErrors: Counter;
  /** The status codes each revision's request counter has series for, to remove them later. */
  private readonly codesSeen = new Map<string, Set<string>>();

  constructor(registry: Registry, queued: () => { namespace: string; revision: string; waiting: number }[]) {
    this.requests = new Counter({
      name: 'ebb_gateway_requests_total',
      help: 'Requests answered, by namespace, revision and HTTP status code.',
      labelNames: ['namespace', 'revision', 'code'] as const,
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'ebb_gateway_request_duration_seconds',
      help: 'Time from a request reaching the gateway to its response ending, by revision.',
      labelNames: ['namespace', 'revision'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.coldStarts = new Histogram({
      name: 'ebb_gateway_cold_start_duration_seconds',
      help: 'Time a request that found its revision without a ready pod waited until it was forwarded.',
      labelNames: ['namespace', 'revision'] as const,
      buckets: COLD_START_BUCKETS,
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'ebb_gateway_refused_requests_total',
      help: 'Requests answered by the gateway itself, by reason (unknown_host, not_ready, queue_full, timeout, upstream_error).',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.statsErrors = new Counter({
      name: 'ebb_gateway_stats_send_errors_total',
      help: 'Stats reports that did not reach an autoscaler replica.',
      registers: [registry],
    });
    new Gauge({
      name: 'ebb_gateway_queue_depth',
      help: 'Requests waiting for a pod with room, by revision.',
      labelNames: ['namespace', 'revision'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const q of queued()) this.set({ namespace: q.namespace, revision: q.revision }, q.waiting);
      },
    });
  }

  request(namespace: string, revision: string, code: number, seconds: number): void {
    const codeText = String(code);
    this.requests.inc({ namespace, revision, code: codeText });
    this.latency.observe({ namespace, revision }, seconds);
    const key = `${namespace}/${revision}`;
    let codes = this.codesSeen.get(key);
    if (codes === undefined) {
      codes = new Set();
      this.codesSeen.set(key, codes);
    }
    codes.add(codeText);
  }

  /** Drops a deleted revision's series, so that the label sets do not pile up as revisions come
   * and go over the gateway's lifetime. */
  forgetRevision(namespace: string, revision: string): void {
    const key = `${namespace}/${revision}`;
    for (const code of this.codesSeen.get(key) ?? []) this.requests.remove({ namespace, revision, code });
    this.codesSeen.delete(key);
    this.latency.remove({ namespace, revision });
    this.coldStarts.remove({ namespace, revision });
  }

  coldStart(namespace: string, revision: string, seconds: number): void {
    this.coldStarts.observe({ namespace, revision }, seconds);
  }

  refusedRequest(reason: string): void {
    this.refused.inc({ reason });
  }

  statsSendError(): void {
    this.statsErrors.inc();
  }
}
