// Time-bucketed metric windows the KPA averages over (Knative's aggregation package): a ring of 1 s
// buckets, averaged linearly or with exponential weights. Time is passed in; nothing here reads a clock.

/** Width of one bucket. Knative's BucketSize. */
export const BUCKET_MS = 1000;

/** Weights must sum to at least this much over the window (weighted-exponential). */
const WEIGHT_PRECISION = 0.9999;
/** Floor of the smoothing coefficient, so that long windows do not degrade into a plain average. */
const MIN_SMOOTHING = 0.2;

export type AggregationAlgorithm = 'linear' | 'weighted-exponential';

/** What the collector needs from a window, whichever averaging it uses. */
export interface WindowAverager {
  readonly windowMs: number;
  /** Adds `value` to the bucket of `time`. Several records in one bucket add up. */
  record(time: number, value: number): void;
  /** The window's average at `now`; 0 when nothing was written for a whole window. */
  windowAverage(now: number): number;
  /** True when nothing was written in the last window (Knative: ErrNoData). */
  isEmpty(now: number): boolean;
  /** Changes the window length, keeping the buckets that still fit. */
  resize(windowMs: number, now: number): void;
}

export function newWindowAverager(algorithm: AggregationAlgorithm, windowMs: number): WindowAverager {
  return algorithm === 'weighted-exponential' ? new WeightedBuckets(windowMs) : new LinearBuckets(windowMs);
}

/** The decay of weighted-exponential averaging for a window of `nBuckets`: the weights of the whole
 * window add up to WEIGHT_PRECISION, but the newest bucket always weighs at least MIN_SMOOTHING. */
export function smoothingCoefficient(nBuckets: number): number {
  return Math.max(1 - Math.pow(1 - WEIGHT_PRECISION, 1 / nBuckets), MIN_SMOOTHING);
}

/** Knative truncates averages to 6 decimals, so tiny float noise never adds a pod. */
function truncate6(value: number): number {
  return Math.floor(value * 1e6) / 1e6;
}

function bucketCount(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / BUCKET_MS));
}

/** Bucket number of a time (buckets since the epoch); the ring slot is this modulo the length. */
function bucketOf(time: number): number {
  return Math.floor(time / BUCKET_MS);
}

function slot(bucket: number, length: number): number {
  return ((bucket % length) + length) % length;
}

/**
 * Linear average over the valid buckets. Valid buckets run from the first write (reset after a
 * window without writes) to the last write, at most the window length; buckets between the last
 * write and `now` count as zeros that shorten the window, so stale load fades out quickly.
 */
export class LinearBuckets implements WindowAverager {
  protected buckets: number[];
  protected total = 0;
  /** Bucket numbers of the first and last write; undefined before any write. */
  protected firstWrite: number | undefined;
  protected lastWrite: number | undefined;
  #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
    this.buckets = new Array<number>(bucketCount(windowMs)).fill(0);
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  record(time: number, value: number): void {
    const bucket = bucketOf(time);
    const n = this.buckets.length;
    const last = this.lastWrite;
    if (last === undefined || (bucket - last) * BUCKET_MS >= this.#windowMs) {
      // First write, or the first after a whole window of silence: start a fresh partial window.
      this.buckets.fill(0);
      this.total = 0;
      this.firstWrite = bucket;
      this.lastWrite = bucket;
    } else if (bucket > last) {
      // Buckets skipped since the last write held data from a window ago: zero them.
      for (let b = last + 1; b <= bucket && b <= last + n; b++) {
        const i = slot(b, n);
        this.total -= this.buckets[i] ?? 0;
        this.buckets[i] = 0;
      }
      this.lastWrite = bucket;
    } else if ((last - bucket) * BUCKET_MS >= this.#windowMs) {
      return; // Older than the window: it no longer counts.
    } else if (this.firstWrite !== undefined && bucket < this.firstWrite) {
      this.firstWrite = bucket; // A late stat from before the first write we saw.
    }
    const i = slot(bucket, n);
    this.buckets[i] = (this.buckets[i] ?? 0) + value;
    this.total += value;
  }

  windowAverage(now: number): number {
    const last = this.lastWrite;
    const first = this.firstWrite;
    if (last === undefined || first === undefined) return 0;
    const n = this.buckets.length;
    const idle = bucketOf(now) - last;
    const written = last - first + 1;
    if (idle <= 0) return truncate6(this.total / Math.min(written, n));
    if (idle * BUCKET_MS >= this.#windowMs) return 0;
    // The slots after the last write still hold values from a window ago: leave them out.
    let total = this.total;
    for (let b = last + 1; b <= last + idle; b++) total -= this.buckets[slot(b, n)] ?? 0;
    return truncate6(total / Math.min(written, n - idle));
  }

  isEmpty(now: number): boolean {
    return this.lastWrite === undefined || (bucketOf(now) - this.lastWrite) * BUCKET_MS > this.#windowMs;
  }

  resize(windowMs: number, now: number): void {
    if (windowMs === this.#windowMs) return;
    const old = this.buckets;
    const oldN = old.length;
    const newN = bucketCount(windowMs);
    const last = this.lastWrite;
    const recent = last !== undefined && !this.isEmpty(now);
    this.#windowMs = windowMs;
    this.buckets = new Array<number>(newN).fill(0);
    this.total = 0;
    if (!recent) {
      this.firstWrite = undefined;
      this.lastWrite = undefined;
      return;
    }
    // Keep the newest buckets that fit both rings. Older data is gone, so the valid range starts
    // no earlier than the oldest bucket kept (and no earlier than the real first write).
    const kept = Math.min(oldN, newN);
    for (let b = last; b > last - kept; b--) {
      const v = old[slot(b, oldN)] ?? 0;
      this.buckets[slot(b, newN)] = v;
      this.total += v;
    }
    this.firstWrite = Math.max(this.firstWrite ?? last, last - kept + 1);
  }
}

/**
 * Exponentially weighted average: the newest bucket weighs m, the one before m(1-m), and so on,
 * with m from smoothingCoefficient. Buckets between the last write and `now` are zeros.
 */
export class WeightedBuckets extends LinearBuckets {
  #smoothing: number;

  constructor(windowMs: number) {
    super(windowMs);
    this.#smoothing = smoothingCoefficient(bucketCount(windowMs));
  }

  get smoothing(): number {
    return this.#smoothing;
  }

  override windowAverage(now: number): number {
    const last = this.lastWrite;
    if (last === undefined || this.isEmpty(now)) return 0;
    const n = this.buckets.length;
    const m = this.#smoothing;
    let weight = m;
    let count = n;
    const idle = bucketOf(now) - last;
    if (idle > 0) {
      weight *= Math.pow(1 - m, idle);
      count -= idle;
    }
    let sum = 0;
    for (let i = 0; i < count; i++) {
      sum += (this.buckets[slot(last - i, n)] ?? 0) * weight;
      weight *= 1 - m;
    }
    return sum;
  }

  override resize(windowMs: number, now: number): void {
    super.resize(windowMs, now);
    this.#smoothing = smoothingCoefficient(bucketCount(windowMs));
  }
}
