// The KPA decider for one revision (Knative's scaling.autoscaler Scale): from ready pods and the
// observed stable and panic load it computes the desired pod count and the excess burst capacity,
// keeping panic-mode state between ticks. Bounds and scale to zero are applied later (scale.ts).
import type { StableAndPanic } from './collector.ts';
import { DELAY_GRANULARITY_MS, MaxTimeWindow } from './max-time-window.ts';

export interface DeciderSpec {
  /** Load per pod the autoscaler aims for (target × utilization). */
  targetValue: number;
  /** Load a pod can take at most (containerConcurrency, or the target); used for burst capacity. */
  totalValue: number;
  /** Spare capacity to keep; 0 disables it, -1 keeps the gateway buffering always. */
  targetBurstCapacity: number;
  /** Panic when panic-window pods needed ÷ ready pods reaches this (2 = 200%). */
  panicThreshold: number;
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  /** Panic mode lasts at least this long after the last tick over the threshold. */
  stableWindowMs: number;
  /** Scale-down decisions wait this long (0: none). */
  scaleDownDelayMs: number;
  /** Smallest non-zero scale (values ≤ 1 mean none). */
  activationScale: number;
  /** Whether a route sends traffic to the revision; an unreachable one may drop to 1 at once. */
  reachable: boolean;
  /** Only for the status before the first decision. */
  initialScale: number;
}

export interface ScaleResult {
  desiredPodCount: number;
  excessBurstCapacity: number;
  /** False when there was nothing to decide on (no data, pods could not be counted). */
  valid: boolean;
}

/** The decider's last recommendation, as the PodAutoscaler reconciler reads it. */
export interface DeciderStatus {
  /** -1 until the first valid decision. */
  desiredScale: number;
  excessBurstCapacity: number;
}

export const INVALID_RESULT: Readonly<ScaleResult> = {
  desiredPodCount: 0,
  excessBurstCapacity: 0,
  valid: false,
};

/** Status of a new decider: scale unknown, and the burst capacity that initialScale pods would have. */
export function initialDeciderStatus(
  spec: Pick<DeciderSpec, 'targetBurstCapacity' | 'initialScale' | 'totalValue'>,
): DeciderStatus {
  const tbc = spec.targetBurstCapacity;
  const ebc = tbc === -1 || tbc === 0 ? tbc : Math.trunc(spec.initialScale * spec.totalValue - tbc);
  return { desiredScale: -1, excessBurstCapacity: ebc };
}

/** Whether a new status matters to the PodAutoscaler: the scale changed, or the burst capacity
 * crossed zero (which moves the gateway in or out of buffering mode). */
export function deciderStatusChanged(previous: DeciderStatus, next: DeciderStatus): boolean {
  return (
    previous.desiredScale !== next.desiredScale ||
    previous.excessBurstCapacity < 0 !== next.excessBurstCapacity < 0
  );
}

/** Scale-from-zero fast path: a stat with requests for a revision last decided at 0, or not
 * decided yet (a revision created at initial-scale 0 moments ago), runs the decider at once
 * instead of at the next tick. */
export function shouldPoke(latestDesiredScale: number, averageConcurrency: number): boolean {
  return latestDesiredScale <= 0 && averageConcurrency !== 0;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

export class Decider {
  #spec: DeciderSpec;
  /** When panic mode was entered or last extended; undefined when not panicking. */
  #panicTime: number | undefined;
  /** Highest count decided during the current panic; panic never scales down. */
  #maxPanicPods: number;
  #delay: MaxTimeWindow | undefined;

  /** A decider that starts with more than one ready pod starts in panic, so that a restart of the
   * autoscaler (which loses the metric history) does not scale the revision down. */
  constructor(spec: DeciderSpec, now: number, readyPods: number) {
    this.#spec = spec;
    this.#panicTime = readyPods > 1 ? now : undefined;
    this.#maxPanicPods = readyPods;
    this.#delay =
      spec.scaleDownDelayMs > 0 ? new MaxTimeWindow(spec.scaleDownDelayMs, DELAY_GRANULARITY_MS) : undefined;
  }

  get spec(): DeciderSpec {
    return this.#spec;
  }

  get panicking(): boolean {
    return this.#panicTime !== undefined;
  }

  get panicTime(): number | undefined {
    return this.#panicTime;
  }

  get maxPanicPods(): number {
    return this.#maxPanicPods;
  }

  /** Takes a new spec; the scale-down delay window is resized, created or dropped to match. */
  update(spec: DeciderSpec): void {
    this.#spec = spec;
    if (spec.scaleDownDelayMs <= 0) this.#delay = undefined;
    else if (this.#delay === undefined)
      this.#delay = new MaxTimeWindow(spec.scaleDownDelayMs, DELAY_GRANULARITY_MS);
    else this.#delay.resize(spec.scaleDownDelayMs);
  }

  /**
   * One tick. `readyPods` undefined means the pods could not be counted; `observed` undefined means
   * no data. Both give an invalid result and leave the state alone.
   */
  scale(now: number, readyPods: number | undefined, observed: StableAndPanic | undefined): ScaleResult {
    if (readyPods === undefined || observed === undefined) return { ...INVALID_RESULT };
    const spec = this.#spec;
    // With no ready pods the rates still allow moving away from zero.
    const ready = Math.max(1, readyPods);

    // The ceiling lets a slow rate (1.1 × 2 pods) still add a pod.
    const maxScaleUp = Math.ceil(spec.maxScaleUpRate * ready);
    const maxScaleDown = spec.reachable ? Math.floor(ready / spec.maxScaleDownRate) : 0;

    const stableWanted = Math.ceil(observed.stable / spec.targetValue);
    const panicWanted = Math.ceil(observed.panic / spec.targetValue);
    let desiredStable = clamp(stableWanted, maxScaleDown, maxScaleUp);
    let desiredPanic = clamp(panicWanted, maxScaleDown, maxScaleUp);
    if (spec.activationScale > 1) {
      // Activation scale only applies once the revision is wanted at all.
      if (stableWanted > 0 && spec.activationScale > desiredStable) desiredStable = spec.activationScale;
      if (panicWanted > 0 && spec.activationScale > desiredPanic) desiredPanic = spec.activationScale;
    }

    const overThreshold = panicWanted / ready >= spec.panicThreshold;
    if (overThreshold) {
      this.#panicTime = now; // Enter panic, or extend it.
    } else if (this.#panicTime !== undefined && this.#panicTime + spec.stableWindowMs < now) {
      // The surge has had a whole stable window to show up in the stable average.
      this.#panicTime = undefined;
      this.#maxPanicPods = 0;
    }

    let desired = desiredStable;
    if (this.#panicTime !== undefined) {
      // Provision for the larger of the two; the stable average can exceed the panic one.
      desired = Math.max(desiredStable, desiredPanic);
      this.#maxPanicPods = Math.max(this.#maxPanicPods, desired);
      desired = this.#maxPanicPods;
    }

    if (spec.reachable && this.#delay !== undefined) {
      this.#delay.record(now, desired);
      desired = this.#delay.current();
    }

    return {
      desiredPodCount: desired,
      excessBurstCapacity: excessBurstCapacity(spec, readyPods, observed.panic),
      valid: true,
    };
  }
}

/** Capacity left after the panic-window load and the target burst capacity; negative means the
 * gateway should buffer. Uses the real ready count, not the floor of 1 the rates use. */
function excessBurstCapacity(spec: DeciderSpec, readyPods: number, observedPanic: number): number {
  if (spec.targetBurstCapacity === 0) return 0;
  if (spec.targetBurstCapacity < 0) return -1;
  return Math.floor(readyPods * spec.totalValue - spec.targetBurstCapacity - observedPanic);
}
