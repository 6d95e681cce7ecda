// Table tests of the scaler's pure decisions, modelled on Knative's kpa/scaler_test.go TestScaler
// (without its SKS and activator-probe cases: ebb's gateway is always in the path) and on
// computeActiveCondition's table.
import { describe, expect, it } from '@jest/globals';
import type { ConditionStatus } from '../apis/meta/v1.ts';
import {
  activeCondition,
  applyBounds,
  decideScale,
  scaleBounds,
  type ActiveCondition,
  type ActiveInput,
  type ActiveOutcome,
  type ScaleDecision,
  type ScaleInput,
} from './scale.ts';

const NOW = 1_700_000_000_000;
const SEC = 1000;
const STABLE_WINDOW = 300 * SEC;
const PA_WINDOW = 45 * SEC;
const GRACE = 60 * SEC;
const PROGRESS_DEADLINE = 600 * SEC;
const ACTIVATION_TIMEOUT = PROGRESS_DEADLINE + 30 * SEC;

describe('applyBounds', () => {
  it.each([
    [0, 0, 5, 5],
    [2, 0, 1, 2],
    [0, 8, 10, 8],
    [2, 8, 5, 5],
    [0, 0, -1, 0],
    [3, 3, 0, 3],
  ])('min %i, max %i, desired %i → %i', (min, max, desired, want) => {
    expect(applyBounds(min, max, desired)).toBe(want);
  });
});

describe('scaleBounds', () => {
  const base = { minScale: 2, maxScale: 10, initialScale: 1, reachable: true, scaleTargetInitialized: true };
  it.each([
    ['reachable: min applies', {}, { min: 2, max: 10 }],
    ['unreachable: no min', { reachable: false }, { min: 0, max: 10 }],
    [
      'initial scale raises min until reached',
      { initialScale: 5, scaleTargetInitialized: false },
      { min: 5, max: 10 },
    ],
    ['initial scale reached: min only', { initialScale: 5 }, { min: 2, max: 10 }],
    ['initial scale below min', { initialScale: 1, scaleTargetInitialized: false }, { min: 2, max: 10 }],
    [
      'unreachable: initial scale ignored too',
      { initialScale: 5, scaleTargetInitialized: false, reachable: false },
      { min: 0, max: 10 },
    ],
  ])('%s', (_name, overrides, want) => {
    expect(scaleBounds({ ...base, ...overrides })).toEqual(want);
  });
});

function input(
  desiredScale: number,
  active: [ConditionStatus, number],
  overrides: Partial<ScaleInput> = {},
): ScaleInput {
  return {
    now: NOW,
    desiredScale,
    active: { status: active[0], since: NOW - active[1] },
    minScale: 0,
    maxScale: 0,
    initialScale: 1,
    reachable: true,
    scaleTargetInitialized: true,
    enableScaleToZero: true,
    stableWindowMs: STABLE_WINDOW,
    scaleToZeroGracePeriodMs: GRACE,
    scaleToZeroPodRetentionMs: 0,
    progressDeadlineMs: PROGRESS_DEADLINE,
    ...overrides,
  };
}

describe('decideScale', () => {
  const cases: [string, ScaleInput, ScaleDecision][] = [
    [
      'waits to scale to zero (just before idle period): one pod for the rest of the window',
      input(0, ['True', STABLE_WINDOW - SEC]),
      { want: 1, apply: true, requeueMs: SEC },
    ],
    [
      'waits to scale to zero (just before idle period), custom PA window',
      input(0, ['True', PA_WINDOW - SEC], { stableWindowMs: PA_WINDOW }),
      { want: 1, apply: true, requeueMs: SEC },
    ],
    [
      'custom PA window, the default window passed: deactivate',
      input(0, ['True', STABLE_WINDOW], { stableWindowMs: PA_WINDOW }),
      { want: 0, apply: false, requeueMs: GRACE },
    ],
    [
      'scale to 1 waiting for idle expires',
      input(0, ['True', STABLE_WINDOW - SEC]),
      { want: 1, apply: true, requeueMs: SEC },
    ],
    [
      'waits to scale to zero after idle period: marked inactive first, pods kept',
      input(0, ['True', STABLE_WINDOW]),
      { want: 0, apply: false, requeueMs: GRACE },
    ],
    [
      'deactivating with a pod retention longer than the grace period',
      input(0, ['True', STABLE_WINDOW], { scaleToZeroPodRetentionMs: 2 * GRACE }),
      { want: 0, apply: false, requeueMs: 2 * GRACE },
    ],
    [
      'can scale to zero after grace period, with 0 pod retention',
      input(0, ['False', GRACE], { scaleToZeroPodRetentionMs: 0 }),
      { want: 0, apply: true },
    ],
    [
      "can't scale to zero after grace period, but before last pod retention",
      input(0, ['False', GRACE], { scaleToZeroPodRetentionMs: 2 * GRACE }),
      { want: 0, apply: false, requeueMs: GRACE },
    ],
    [
      'scale to zero after grace period, and after last pod retention',
      input(0, ['False', GRACE], { scaleToZeroPodRetentionMs: GRACE }),
      { want: 0, apply: true },
    ],
    ['scale to zero after grace period', input(0, ['False', GRACE]), { want: 0, apply: true }],
    [
      'waits to scale to zero (just before grace period): no proxy-mode fast path in ebb',
      input(0, ['False', GRACE - SEC]),
      { want: 0, apply: false, requeueMs: SEC },
    ],
    [
      'scale to zero disabled: keep one pod',
      input(0, ['False', GRACE], { enableScaleToZero: false }),
      { want: 1, apply: true },
    ],
    [
      'waits to scale to zero while activating until after deadline exceeded',
      input(0, ['Unknown', ACTIVATION_TIMEOUT / 2]),
      { want: -1, apply: false, requeueMs: ACTIVATION_TIMEOUT / 2 },
    ],
    [
      'scale to zero while activating after deadline exceeded',
      input(0, ['Unknown', ACTIVATION_TIMEOUT + SEC]),
      { want: 0, apply: true },
    ],
    [
      'scale to zero while activating after revision deadline exceeded',
      input(0, ['Unknown', 5 * SEC + 30 * SEC + SEC], { progressDeadlineMs: 5 * SEC }),
      { want: 0, apply: true },
    ],
    [
      'no metrics while activating: bounds apply, then the activation timeout',
      input(-1, ['Unknown', SEC]),
      { want: -1, apply: false, requeueMs: ACTIVATION_TIMEOUT - SEC },
    ],
    [
      'scale down to minScale before grace period',
      input(0, ['False', GRACE - SEC], { minScale: 2 }),
      { want: 2, apply: true },
    ],
    [
      'scale down to minScale after grace period',
      input(0, ['False', GRACE], { minScale: 2 }),
      { want: 2, apply: true },
    ],
    [
      'ignore minScale if unreachable',
      input(0, ['False', GRACE], { minScale: 2, reachable: false }),
      { want: 0, apply: true },
    ],
    [
      'unreachable revision with an initial scale not reached yet may still go to zero',
      input(0, ['False', GRACE], { initialScale: 3, scaleTargetInitialized: false, reachable: false }),
      { want: 0, apply: true },
    ],
    ['scales up', input(10, ['True', SEC]), { want: 10, apply: true }],
    ['scales up to maxScale', input(10, ['True', SEC], { maxScale: 8 }), { want: 8, apply: true }],
    ['scale up inactive revision', input(10, ['False', GRACE / 2]), { want: 10, apply: true }],
    ['does not scale up from zero with no metrics', input(-1, ['False', 0]), { want: -1, apply: false }],
    ['scales up from zero to desired one', input(1, ['False', GRACE]), { want: 1, apply: true }],
    ['scales up from zero to desired high scale', input(10, ['False', GRACE]), { want: 10, apply: true }],
    ['negative scale does not scale', input(-1, ['True', 0]), { want: -1, apply: false }],
    [
      'initial scale attained, but now time to scale down: first to one',
      input(0, ['True', 120 * SEC], { initialScale: 2, scaleTargetInitialized: true }),
      { want: 1, apply: true, requeueMs: STABLE_WINDOW - 120 * SEC },
    ],
    [
      "haven't scaled to initial scale, override desired scale with initial scale",
      input(1, ['Unknown', 0], { initialScale: 2, scaleTargetInitialized: false }),
      { want: 2, apply: true },
    ],
    [
      'initial scale reached for the first time',
      input(1, ['Unknown', 0], { initialScale: 5, scaleTargetInitialized: false }),
      { want: 5, apply: true },
    ],
    [
      'reaching initial scale zero',
      input(0, ['False', 0], { initialScale: 0, scaleTargetInitialized: false }),
      { want: 0, apply: false, requeueMs: GRACE },
    ],
  ];

  it.each(cases)('%s', (_name, scaleInput, want) => {
    expect(decideScale(scaleInput)).toEqual(want);
  });
});

describe('activeCondition', () => {
  const NO_TRAFFIC: ActiveCondition = {
    status: 'False',
    reason: 'NoTraffic',
    message: 'The target is not receiving traffic.',
  };
  const TIMED_OUT: ActiveCondition = {
    status: 'False',
    reason: 'TimedOut',
    message: 'The target could not be activated.',
  };
  const QUEUED: ActiveCondition = {
    status: 'Unknown',
    reason: 'Queued',
    message: 'Requests to the target are being buffered as resources are provisioned.',
  };
  const ACTIVE: ActiveCondition = { status: 'True' };

  function active(
    want: number,
    readyPods: number,
    current: ConditionStatus | undefined,
    overrides: Partial<ActiveInput> = {},
  ): ActiveInput {
    return {
      want,
      readyPods,
      current,
      minScale: 0,
      initialScale: 1,
      reachable: true,
      scaleTargetInitialized: true,
      ...overrides,
    };
  }

  const cases: [string, ActiveInput, ActiveOutcome][] = [
    ['want 0: inactive', active(0, 1, 'True'), { active: NO_TRAFFIC, markScaleTargetInitialized: true }],
    [
      'want 0 while activating: timed out',
      active(0, 0, 'Unknown'),
      { active: TIMED_OUT, markScaleTargetInitialized: false },
    ],
    [
      'want > 0, not enough ready: activating',
      active(3, 0, 'False'),
      { active: QUEUED, markScaleTargetInitialized: false },
    ],
    [
      'want > 0, enough ready: active',
      active(3, 1, 'Unknown'),
      { active: ACTIVE, markScaleTargetInitialized: true },
    ],
    [
      'no metrics, too few ready, inactive: stays inactive',
      active(-1, 0, 'False'),
      { active: NO_TRAFFIC, markScaleTargetInitialized: false },
    ],
    [
      'no metrics, too few ready, activating: activating',
      active(-1, 0, 'Unknown'),
      { active: QUEUED, markScaleTargetInitialized: false },
    ],
    [
      'no metrics, too few ready, active: activating',
      active(-1, 0, 'True'),
      { active: QUEUED, markScaleTargetInitialized: false },
    ],
    [
      'no metrics, enough ready, inactive: unchanged',
      active(-1, 1, 'False'),
      { active: undefined, markScaleTargetInitialized: true },
    ],
    [
      'no metrics, enough ready, activating, threshold 0 (initial scale 0): inactive',
      active(-1, 0, 'Unknown', { initialScale: 0, scaleTargetInitialized: false }),
      { active: NO_TRAFFIC, markScaleTargetInitialized: true },
    ],
    [
      'no metrics, enough ready, activating: active',
      active(-1, 1, 'Unknown'),
      { active: ACTIVE, markScaleTargetInitialized: true },
    ],
    [
      'no metrics, enough ready, active: active',
      active(-1, 1, 'True'),
      { active: ACTIVE, markScaleTargetInitialized: true },
    ],
    [
      'first reconcile, no condition yet: activating',
      active(-1, 0, undefined),
      { active: QUEUED, markScaleTargetInitialized: false },
    ],
    [
      'initial scale not reached yet: still activating',
      active(3, 2, 'Unknown', { initialScale: 3, scaleTargetInitialized: false }),
      { active: QUEUED, markScaleTargetInitialized: false },
    ],
    [
      'initial scale reached: active and initialized',
      active(3, 3, 'Unknown', { initialScale: 3, scaleTargetInitialized: false }),
      { active: ACTIVE, markScaleTargetInitialized: true },
    ],
    [
      'after initialization one pod is enough',
      active(3, 1, 'True', { initialScale: 3, scaleTargetInitialized: true }),
      { active: ACTIVE, markScaleTargetInitialized: true },
    ],
    [
      'min-scale raises the threshold',
      active(3, 1, 'True', { minScale: 2 }),
      { active: QUEUED, markScaleTargetInitialized: false },
    ],
    [
      'min-scale ignored when unreachable',
      active(3, 1, 'True', { minScale: 2, reachable: false }),
      { active: ACTIVE, markScaleTargetInitialized: true },
    ],
  ];

  it.each(cases)('%s', (_name, activeInput, want) => {
    expect(activeCondition(activeInput)).toEqual(want);
  });
});
