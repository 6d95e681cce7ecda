// Prometheus metrics of the gateway: requests by revision and code, their latency (buckets to
// 60 s), requests waiting per revision, and cold starts (arrival at a revision with no ready pod
// until the request is on its way to one). Labels are namespace and revision, bounded by the
// revisions the cluster has: a deleted revision's series are removed.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COLD_START_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 30, 60];

type Labels = 'namespace' | 'revision';

/** Why the fast path handed a request to node:http; see the metric's help. */
export type HandoverReason = 'request' | 'head' | 'route' | 'no_room' | 'unanswered';

export class GatewayMetrics {
  private readonly requests: Counter<Labels | 'code'>;
  private readonly latency: Histogram<Labels>;
  private readonly coldStarts: Histogram<Labels>;
  private readonly refused: Counter<'reason'>;
  private readonly statsErrors: Counter;
  private readonly handovers: Counter<'reason'>;

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
    this.handovers = new Counter({
      name: 'ebb_gateway_handovers_total',
      help: 'Requests the fast path left to node:http, by reason (request: not a plain HTTP/1.1 request without a body; head: incomplete or over 16 KiB; route: no ready route for the host; no_room: no pod with room; unanswered: the pod closed or refused before answering).',
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
    this.requests.inc({ namespace, revision, code: String(code) });
    this.latency.observe({ namespace, revision }, seconds);
  }

  /** Drops a deleted revision's series, so that the label sets do not pile up as revisions come
   * and go over the gateway's lifetime. The status codes it has series for are read back from the
   * counter rather than tracked on every request. */
  async forgetRevision(namespace: string, revision: string): Promise<void> {
    const { values } = await this.requests.get();
    for (const { labels } of values) {
      if (labels.namespace === namespace && labels.revision === revision)
        this.requests.remove({ namespace, revision, code: String(labels.code) });
    }
    this.latency.remove({ namespace, revision });
    this.coldStarts.remove({ namespace, revision });
  }

  coldStart(namespace: string, revision: string, seconds: number): void {
    this.coldStarts.observe({ namespace, revision }, seconds);
  }

  handover(reason: HandoverReason): void {
    this.handovers.inc({ reason });
  }

  refusedRequest(reason: string): void {
    this.refused.inc({ reason });
  }

  statsSendError(): void {
    this.statsErrors.inc();
  }
}
