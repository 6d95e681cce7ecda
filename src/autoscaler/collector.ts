// Per-revision metric windows fed by the gateway replicas' 1 s stats (Knative's MetricCollector
// without the scraper: ebb's gateway sees every request, so its reports are the whole load).
import { newWindowAverager, type AggregationAlgorithm, type WindowAverager } from './buckets.ts';

export type ScalingMetric = 'concurrency' | 'rps';

/** One gateway replica's report for one revision, covering the second before `time`. */
export interface GatewayStat {
  /** The gateway pod that sent it; replicas' reports for the same second add up. */
  podName: string;
  /** `namespace/name` of the revision. */
  revisionKey: string;
  /** Time-weighted average of in-flight requests over the report period. */
  averageConcurrency: number;
  /** Requests per second over the report period. */
  requestCount: number;
  /** When the gateway sent it, in epoch milliseconds. */
  time: number;
}

/** What a revision's windows look like; resolved from its annotations (see target.ts). */
export interface MetricSpec {
  stableWindowMs: number;
  panicWindowMs: number;
  algorithm: AggregationAlgorithm;
}

/** Revision-wide (not per pod) averages over the stable and the panic window. */
export interface StableAndPanic {
  stable: number;
  panic: number;
}

interface Windows {
  stable: WindowAverager;
  panic: WindowAverager;
}

function windows(spec: MetricSpec): Windows {
  return {
    stable: newWindowAverager(spec.algorithm, spec.stableWindowMs),
    panic: newWindowAverager(spec.algorithm, spec.panicWindowMs),
  };
}

/** The four windows of one revision: stable and panic, for concurrency and for requests per second. */
export class RevisionMetrics {
  #spec: MetricSpec;
  #concurrency: Windows;
  #rps: Windows;
  #lastTraffic: number | undefined;

  constructor(spec: MetricSpec) {
    this.#spec = spec;
    this.#concurrency = windows(spec);
    this.#rps = windows(spec);
  }

  get spec(): MetricSpec {
    return this.#spec;
  }

  /** Follows a change of the window annotations; a new algorithm starts over with empty windows. */
  update(spec: MetricSpec, now: number): void {
    if (spec.algorithm !== this.#spec.algorithm) {
      this.#concurrency = windows(spec);
      this.#rps = windows(spec);
    } else {
      for (const w of [this.#concurrency, this.#rps]) {
        w.stable.resize(spec.stableWindowMs, now);
        w.panic.resize(spec.panicWindowMs, now);
      }
    }
    this.#spec = spec;
  }

  record(stat: GatewayStat): void {
    this.#concurrency.stable.record(stat.time, stat.averageConcurrency);
    this.#concurrency.panic.record(stat.time, stat.averageConcurrency);
    this.#rps.stable.record(stat.time, stat.requestCount);
    this.#rps.panic.record(stat.time, stat.requestCount);
    if (stat.averageConcurrency > 0 || stat.requestCount > 0) {
      this.#lastTraffic = Math.max(this.#lastTraffic ?? stat.time, stat.time);
    }
  }

  /** Both averages, or undefined when the stable window saw no stat at all (no data: no decision). */
  stableAndPanic(now: number, metric: ScalingMetric): StableAndPanic | undefined {
    const w = metric === 'rps' ? this.#rps : this.#concurrency;
    if (w.stable.isEmpty(now)) return undefined;
    return { stable: w.stable.windowAverage(now), panic: w.panic.windowAverage(now) };
  }

  /** Time of the last stat that carried requests; undefined if none has. */
  get lastTrafficAt(): number | undefined {
    return this.#lastTraffic;
  }

  /** Whether a stat with requests arrived at or after `since`. */
  sawTrafficSince(since: number): boolean {
    return this.#lastTraffic !== undefined && this.#lastTraffic >= since;
  }
}

/** The revisions the autoscaler decides for, by `namespace/name`. Stats for others are dropped. */
export class MetricCollector {
  readonly #revisions = new Map<string, RevisionMetrics>();

  /** Starts collecting for a revision, or follows a change of its spec. */
  set(revisionKey: string, spec: MetricSpec, now: number): RevisionMetrics {
    const existing = this.#revisions.get(revisionKey);
    if (existing !== undefined) {
      existing.update(spec, now);
      return existing;
    }
    const created = new RevisionMetrics(spec);
    this.#revisions.set(revisionKey, created);
    return created;
  }

  get(revisionKey: string): RevisionMetrics | undefined {
    return this.#revisions.get(revisionKey);
  }

  delete(revisionKey: string): void {
    this.#revisions.delete(revisionKey);
  }

  /** False when the revision is not collected (yet); the stat is dropped, as in Knative. */
  record(stat: GatewayStat): boolean {
    const revision = this.#revisions.get(stat.revisionKey);
    if (revision === undefined) return false;
    revision.record(stat);
    return true;
  }

  /** Undefined for an unknown revision or one without data. */
  stableAndPanic(revisionKey: string, now: number, metric: ScalingMetric): StableAndPanic | undefined {
    return this.#revisions.get(revisionKey)?.stableAndPanic(now, metric);
  }
}
