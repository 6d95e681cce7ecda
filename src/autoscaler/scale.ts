// From the decider's recommendation to the replicas to write, and the PodAutoscaler's Active
// condition (Knative's kpa scaler.scale, handleScaleToZero and computeActiveCondition), as pure
// functions of the PA's state and `now`. ebb has no ServerlessService and no activator probe: the
// gateway is always in the request path, so a revision may go to zero once it has been inactive
// for the grace period (and the last-pod retention).
import type { ConditionStatus } from '../apis/meta/v1.ts';
import {
  NO_TRAFFIC_MESSAGE,
  QUEUED_MESSAGE,
  REASON_NO_TRAFFIC,
  REASON_QUEUED,
  REASON_TIMED_OUT,
  TIMED_OUT_MESSAGE,
} from '../apis/autoscaling/v1alpha1/podautoscaler-lifecycle.ts';

/** Added to the progress deadline before an activation that never got pods gives up, so that the
 * Revision reconciler reports why the pods failed before they are scaled away. */
export const ACTIVATION_TIMEOUT_BUFFER_MS = 30_000;

/** The PodAutoscaler's Active condition as the scaler reads it. */
export interface ActiveState {
  status: ConditionStatus;
  /** lastTransitionTime, in epoch milliseconds. */
  since: number;
}

/** max = 0 means unbounded. Expects 0 <= min <= max (when max > 0). */
export function applyBounds(min: number, max: number, desired: number): number {
  if (desired < min) return min;
  if (max !== 0 && desired > max) return max;
  return desired;
}

export interface BoundsInput {
  minScale: number;
  maxScale: number;
  initialScale: number;
  /** False only when the revision is Unreachable (no route); unknown counts as reachable. */
  reachable: boolean;
  scaleTargetInitialized: boolean;
}

/** The bounds the scaler applies: min only while reachable, raised to the initial scale until
 * the revision has reached it once. */
export function scaleBounds(input: BoundsInput): { min: number; max: number } {
  let min = input.reachable ? input.minScale : 0;
  if (input.reachable && input.initialScale > 1 && !input.scaleTargetInitialized) {
    min = Math.max(min, input.initialScale);
  }
  return { min, max: input.maxScale };
}

export interface ScaleInput extends BoundsInput {
  now: number;
  /** The decider's DesiredScale; -1 before its first decision. */
  desiredScale: number;
  active: ActiveState;
  enableScaleToZero: boolean;
  stableWindowMs: number;
  scaleToZeroGracePeriodMs: number;
  scaleToZeroPodRetentionMs: number;
  progressDeadlineMs: number;
}

export interface ScaleDecision {
  /** The scale wanted; the PA's desiredScale and the input of activeCondition. -1: unknown. */
  want: number;
  /** Whether to write `want` to the Deployment's replicas. */
  apply: boolean;
  /** Reconcile the PodAutoscaler again after this long, to move the state machine on. */
  requeueMs?: number;
}

/** Bounds, then scale to zero. */
export function decideScale(input: ScaleInput): ScaleDecision {
  // No metrics yet: leave the Deployment as it is, unless an activation may have to time out.
  if (input.desiredScale < 0 && input.active.status !== 'Unknown') {
    return { want: input.desiredScale, apply: false };
  }
  const { min, max } = scaleBounds(input);
  return handleScaleToZero(input, applyBounds(min, max, input.desiredScale));
}

/**
 * A revision goes to zero in steps: active for at least a stable window, then marked Inactive
 * (NoTraffic) with one pod kept, then scaled to 0 once inactive for max(grace, retention). An
 * activation that never produced ready pods gives up after progressDeadline + 30 s.
 */
export function handleScaleToZero(input: ScaleInput, desired: number): ScaleDecision {
  if (desired !== 0) return { want: desired, apply: true };
  if (!input.enableScaleToZero) return { want: 1, apply: true };
  const elapsed = input.now - input.active.since;
  switch (input.active.status) {
    case 'Unknown': {
      const timeout = input.progressDeadlineMs + ACTIVATION_TIMEOUT_BUFFER_MS;
      if (elapsed >= timeout) return { want: 0, apply: true };
      return { want: -1, apply: false, requeueMs: timeout - elapsed };
    }
    case 'True': {
      if (elapsed < input.stableWindowMs) {
        // Keep one pod for the rest of the stable window, then deactivate.
        return { want: 1, apply: true, requeueMs: input.stableWindowMs - elapsed };
      }
      // Do not scale yet: the PA is marked Inactive first, so that the gateway holds new requests.
      return { want: 0, apply: false, requeueMs: idlePeriod(input) };
    }
    case 'False': {
      const wait = idlePeriod(input) - elapsed;
      if (wait <= 0) return { want: 0, apply: true };
      return { want: 0, apply: false, requeueMs: wait };
    }
  }
}

function idlePeriod(input: ScaleInput): number {
  return Math.max(input.scaleToZeroGracePeriodMs, input.scaleToZeroPodRetentionMs);
}

export type ActiveCondition =
  | { status: 'True' }
  | { status: 'Unknown'; reason: typeof REASON_QUEUED; message: string }
  | { status: 'False'; reason: typeof REASON_NO_TRAFFIC | typeof REASON_TIMED_OUT; message: string };

export interface ActiveInput {
  /** ScaleDecision.want. */
  want: number;
  readyPods: number;
  minScale: number;
  initialScale: number;
  reachable: boolean;
  scaleTargetInitialized: boolean;
  /** The current Active status; undefined if the condition is not set yet. */
  current: ConditionStatus | undefined;
}

export interface ActiveOutcome {
  /** The Active condition to set; undefined leaves it as it is. */
  active: ActiveCondition | undefined;
  /** Mark ScaleTargetInitialized (it is never unmarked): enough pods are ready. */
  markScaleTargetInitialized: boolean;
}

const NO_TRAFFIC: ActiveCondition = {
  status: 'False',
  reason: REASON_NO_TRAFFIC,
  message: NO_TRAFFIC_MESSAGE,
};
const TIMED_OUT: ActiveCondition = { status: 'False', reason: REASON_TIMED_OUT, message: TIMED_OUT_MESSAGE };
const QUEUED: ActiveCondition = { status: 'Unknown', reason: REASON_QUEUED, message: QUEUED_MESSAGE };

/** Pods needed to count as active: the initial scale until it has been reached, then one. */
export function activeThreshold(
  input: Pick<ActiveInput, 'minScale' | 'initialScale' | 'reachable' | 'scaleTargetInitialized'>,
): number {
  const min = input.reachable ? input.minScale : 0;
  return Math.max(min, input.scaleTargetInitialized ? 1 : input.initialScale);
}

/** want 0 → Inactive; want > 0 → Activating until enough pods are ready, then Active; want -1
 * (no metrics yet) keeps an Inactive revision Inactive. */
export function activeCondition(input: ActiveInput): ActiveOutcome {
  const minReady = activeThreshold(input);
  const markScaleTargetInitialized = input.readyPods >= minReady;
  const inactive = input.current === 'False';
  let active: ActiveCondition | undefined;
  if (input.want === 0 || minReady === 0) {
    // Scaling to zero while activating only happens when the activation timed out.
    active = input.current === 'Unknown' && minReady > 0 ? TIMED_OUT : NO_TRAFFIC;
  } else if (input.readyPods < minReady) {
    active = input.want > 0 || !inactive ? QUEUED : NO_TRAFFIC;
  } else if (input.want > 0 || !inactive) {
    active = { status: 'True' };
  }
  return { active, markScaleTargetInitialized };
}
