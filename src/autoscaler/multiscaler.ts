// The decider of every revision the autoscaler scales (Knative's MultiScaler): each holds its
// metric windows and panic state. `tick` runs every decider (every 2 s) and returns the revisions
// whose decision moved, so only those PodAutoscalers are reconciled; `record` feeds the gateways'
// stats and runs a revision's decider at once when a stat shows requests for a revision last
// decided at zero (the scale-from-zero fast path). Time is passed in, so it is all testable.
import { MetricCollector, type StableAndPanic } from './collector.ts';
import {
  Decider,
  deciderStatusChanged,
  initialDeciderStatus,
  shouldPoke,
  type DeciderStatus,
} from './decider.ts';
import type { WireReport } from './stats-wire.ts';
import type { RevisionScaling } from './target.ts';

/**
 * The gateway reports only revisions that had requests, so silence means no traffic: a revision
 * without data counts as idle, once the autoscaler has listened long enough to have heard any
 * report (a restart must not read a busy revision as idle).
 */
export const NO_DATA_GRACE_MS = 3_000;

interface Scaler {
  scaling: RevisionScaling;
  decider: Decider;
  status: DeciderStatus;
  /** When this scaler started listening. */
  since: number;
}

export class MultiScaler {
  private readonly collector = new MetricCollector();
  private readonly scalers = new Map<string, Scaler>();
  private readonly readyPods: (key: string) => number | undefined;

  /** `readyPods` counts a revision's ready pods; undefined when they cannot be counted. */
  constructor(readyPods: (key: string) => number | undefined) {
    this.readyPods = readyPods;
  }

  /** Starts deciding for a revision, or follows a change of its scaling settings. */
  ensure(key: string, scaling: RevisionScaling, now: number): DeciderStatus {
    const existing = this.scalers.get(key);
    this.collector.set(key, scaling.metrics, now);
    if (existing !== undefined) {
      existing.scaling = scaling;
      existing.decider.update(scaling.decider);
      return existing.status;
    }
    const scaler: Scaler = {
      scaling,
      decider: new Decider(scaling.decider, now, this.readyPods(key) ?? 0),
      status: initialDeciderStatus(scaling.decider),
      since: now,
    };
    this.scalers.set(key, scaler);
    return scaler.status;
  }

  status(key: string): DeciderStatus | undefined {
    return this.scalers.get(key)?.status;
  }

  delete(key: string): void {
    this.scalers.delete(key);
    this.collector.delete(key);
  }

  has(key: string): boolean {
    return this.scalers.has(key);
  }

  /** Records a gateway's report; returns the revisions poked awake (their decision moved). */
  record(report: WireReport, now: number): string[] {
    const poked: string[] = [];
    for (const s of report.stats) {
      const key = `${s.namespace}/${s.revision}`;
      this.collector.record({
        podName: report.pod,
        revisionKey: key,
        averageConcurrency: s.concurrency,
        requestCount: s.rps,
        time: now,
      });
      const scaler = this.scalers.get(key);
      if (scaler !== undefined && shouldPoke(scaler.status.desiredScale, s.concurrency)) {
        if (this.decide(key, scaler, now)) poked.push(key);
      }
    }
    return poked;
  }

  /** Runs every decider; returns the revisions whose decision changed. */
  tick(now: number): string[] {
    const changed: string[] = [];
    for (const [key, scaler] of this.scalers) if (this.decide(key, scaler, now)) changed.push(key);
    return changed;
  }

  private observed(key: string, scaler: Scaler, now: number): StableAndPanic | undefined {
    const seen = this.collector.stableAndPanic(key, now, scaler.scaling.metric);
    if (seen !== undefined) return seen;
    return now - scaler.since >= NO_DATA_GRACE_MS ? { stable: 0, panic: 0 } : undefined;
  }

  private decide(key: string, scaler: Scaler, now: number): boolean {
    const result = scaler.decider.scale(now, this.readyPods(key), this.observed(key, scaler, now));
    if (!result.valid) return false;
    const next: DeciderStatus = {
      desiredScale: result.desiredPodCount,
      excessBurstCapacity: result.excessBurstCapacity,
    };
    const changed = deciderStatusChanged(scaler.status, next);
    scaler.status = next;
    return changed;
  }
}
