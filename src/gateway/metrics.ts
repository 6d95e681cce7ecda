// Prometheus metrics of the gateway: requests by revision and code, their latency (buckets to
// 60 s), requests waiting per revision, and cold starts (arrival at a revision with no ready pod
// until the request is on its way to one). Labels are namespace and revision, bounded by the
// revisions the cluster has: a deleted revision's series are removed.
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COLD_START_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 30, 60];

type Labels = 'namespace' | 'revision';

/** Why the fast path handed a request to node:http; see the metric's help. */
export type HandoverReason = 'request' | 'head' | 'route' | 'no_room' | 'unanswered';
/** Why the gateway answered a request itself. */
export type RefusalReason =
  'bad_request' | 'unknown_host' | 'not_ready' | 'queue_full' | 'timeout' | 'upstream_error';

/**
 * One revision's requests by code and its latency histogram, counted in plain numbers on every
 * request and turned into Prometheus series only when scraped. prom-client's own counters build a
 * label object and hash it per call: a seventh of what the gateway's fast path allocated per
 * request (docs/benchmarks.md).
 */
class RevisionSeries {
  readonly namespace: string;
  readonly revision: string;
  readonly codes = new Map<number, number>();
  /** Requests per latency bucket, not cumulative; the last one is past the largest bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(namespace: string, revision: string) {
    this.namespace = namespace;
    this.revision = revision;
  }

  add(code: number, seconds: number): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] ?? Infinity)) i++;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    this.sum += seconds;
    this.count++;
  }
}

interface ExportedValue {
  metricName?: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A metric the registry reads at scrape time from `values()`. prom-client's registry asks each
 * metric for get() (name, help, type, values) and nothing else; metrics.test.ts pins the text
 * this gives, so that a prom-client upgrade that changed that contract would fail there.
 * `labelNames` are the labels `values()` gives (a histogram adds `le` to its buckets); the chart's
 * test reads them from this call, as it reads prom-client's constructors.
 */
function scrapedMetric(spec: {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  labelNames: readonly string[];
  values: () => ExportedValue[];
}): Metric {
  const { name, help, type, labelNames, values } = spec;
  const metric = {
    name,
    help,
    type,
    labelNames,
    aggregator: 'sum',
    get: () => Promise.resolve({ name, help, type, aggregator: 'sum', values: values() }),
    reset: () => undefined,
  };
  return metric as unknown as Metric;
}

export class GatewayMetrics {
  /** By the revision's `namespace/revision` key, the one string the gateway keeps per revision. */
  private readonly series = new Map<string, RevisionSeries>();
  private readonly coldStarts: Histogram<Labels>;
  private readonly refused: Counter<'reason'>;
  private readonly statsErrors: Counter;
  private readonly handovers: Counter<'reason'>;

  constructor(registry: Registry, queued: () => { namespace: string; revision: string; waiting: number }[]) {
    registry.registerMetric(
      scrapedMetric({
        name: 'ebb_gateway_requests_total',
        help: 'Requests answered, by namespace, revision and HTTP status code.',
        type: 'counter',
        labelNames: ['namespace', 'revision', 'code'],
        values: () => this.requestValues(),
      }),
    );
    registry.registerMetric(
      scrapedMetric({
        name: 'ebb_gateway_request_duration_seconds',
        help: 'Time from a request reaching the gateway to its response ending, by revision.',
        type: 'histogram',
        labelNames: ['namespace', 'revision'],
        values: () => this.latencyValues(),
      }),
    );
    this.coldStarts = new Histogram({
      name: 'ebb_gateway_cold_start_duration_seconds',
      help: 'Time a request that found its revision without a ready pod waited until it was forwarded.',
      labelNames: ['namespace', 'revision'] as const,
      buckets: COLD_START_BUCKETS,
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'ebb_gateway_refused_requests_total',
      help: 'Requests answered by the gateway itself, by reason (bad_request, unknown_host, not_ready, queue_full, timeout, upstream_error).',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.handovers = new Counter({
      name: 'ebb_gateway_handovers_total',
      help: 'Requests the fast path left to node:http, by reason (request: not a plain HTTP/1.1 request without a body; head: over 16 KiB; route: no ready route for the host; no_room: no pod with room; unanswered: the pod closed or refused before answering).',
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

  /** A request to the revision `key` (`namespace/revision`) ended with `code` after `seconds`. */
  request(key: string, namespace: string, revision: string, code: number, seconds: number): void {
    let series = this.series.get(key);
    if (series === undefined) {
      series = new RevisionSeries(namespace, revision);
      this.series.set(key, series);
    }
    series.add(code, seconds);
  }

  /** Drops a deleted revision's series, so that the label sets do not pile up as revisions come
   * and go over the gateway's lifetime. */
  forgetRevision(namespace: string, revision: string): void {
    this.series.delete(`${namespace}/${revision}`);
    this.coldStarts.remove({ namespace, revision });
  }

  private requestValues(): ExportedValue[] {
    const values: ExportedValue[] = [];
    for (const s of this.series.values())
      for (const [code, n] of s.codes)
        values.push({
          labels: { namespace: s.namespace, revision: s.revision, code: String(code) },
          value: n,
        });
    return values;
  }

  private latencyValues(): ExportedValue[] {
    const name = 'ebb_gateway_request_duration_seconds';
    const values: ExportedValue[] = [];
    for (const s of this.series.values()) {
      const labels = { namespace: s.namespace, revision: s.revision };
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += s.buckets[i] ?? 0;
        values.push({
          metricName: `${name}_bucket`,
          labels: { ...labels, le: String(bound) },
          value: cumulative,
        });
      });
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${name}_sum`, labels, value: s.sum });
      values.push({ metricName: `${name}_count`, labels, value: s.count });
    }
    return values;
  }

  coldStart(namespace: string, revision: string, seconds: number): void {
    this.coldStarts.observe({ namespace, revision }, seconds);
  }

  handover(reason: HandoverReason): void {
    this.handovers.inc({ reason });
  }

  refusedRequest(reason: RefusalReason): void {
    this.refused.inc({ reason });
  }

  statsSendError(): void {
    this.statsErrors.inc();
  }
}
