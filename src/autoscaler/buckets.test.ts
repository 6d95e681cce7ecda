// Table tests of the metric windows: Knative's golden vectors for linear and weighted averaging,
// gaps, late and stale records, no-data, and resizing.
import { describe, expect, it } from '@jest/globals';
import { LinearBuckets, smoothingCoefficient, WeightedBuckets, type WindowAverager } from './buckets.ts';

const T = 1_700_000_000_000; // a whole second
const s = (seconds: number) => T + seconds * 1000;

type Step =
  | { record: number; value: number }
  | { at: number; average: number; empty?: boolean }
  | { resize: number; at: number };

function run(w: WindowAverager, steps: Step[]): void {
  for (const step of steps) {
    if ('record' in step) w.record(s(step.record), step.value);
    else if ('resize' in step) w.resize(step.resize * 1000, s(step.at));
    else {
      expect([step.at, w.windowAverage(s(step.at))]).toEqual([step.at, step.average]);
      expect([step.at, w.isEmpty(s(step.at))]).toEqual([step.at, step.empty ?? false]);
    }
  }
}

describe('LinearBuckets', () => {
  const cases: [string, number, Step[]][] = [
    [
      'golden vectors of a 5 s window (Knative TestTimedFloat64BucketsWindowAverage)',
      5,
      [
        { record: 0, value: 1 },
        { at: 0, average: 1 },
        { record: 1, value: 2 },
        { record: 2, value: 3 },
        { record: 3, value: 4 },
        { record: 4, value: 5 },
        { at: 4, average: 3 },
        // One second idle: the bucket of t+0 drops out, 4 valid buckets.
        { at: 5, average: 3.5 },
        // Two seconds idle: (15 - 1 - 2) / 3.
        { at: 6, average: 4 },
        // A whole window idle: 0 but still data; more than a window: no data.
        { at: 9, average: 0 },
        { at: 10, average: 0, empty: true },
      ],
    ],
    ['no write yet: no data', 5, [{ at: 0, average: 0, empty: true }]],
    [
      'records in one bucket add up (several gateways)',
      5,
      [
        { record: 0.1, value: 1 },
        { record: 0.9, value: 2 },
        { at: 0.5, average: 3 },
      ],
    ],
    [
      'a gap shorter than the window counts as zeros, truncated to 6 decimals',
      5,
      [
        { record: 0, value: 4 },
        { record: 2, value: 4 },
        { at: 2, average: 2.666666 },
      ],
    ],
    [
      'a whole window without writes starts a fresh partial window',
      5,
      [
        { record: 0, value: 5 },
        { record: 5, value: 7 },
        { at: 5, average: 7 },
      ],
    ],
    [
      'a record older than the window is ignored',
      5,
      [
        { record: 10, value: 5 },
        { record: 5, value: 100 },
        { at: 10, average: 5 },
      ],
    ],
    [
      'a late record inside the window counts and moves the first write back',
      5,
      [
        { record: 3, value: 5 },
        { record: 1, value: 1 },
        { at: 3, average: 2 },
      ],
    ],
    [
      'a window full of old values is overwritten as time moves on',
      3,
      [
        { record: 0, value: 9 },
        { record: 1, value: 9 },
        { record: 2, value: 9 },
        { record: 4, value: 3 },
        // Buckets 2, 3 (zeroed), 4.
        { at: 4, average: 4 },
      ],
    ],
    [
      'a clock ahead of now: the stat still counts',
      5,
      [
        { record: 3, value: 6 },
        { at: 2, average: 6 },
      ],
    ],
    [
      'shrinking keeps the newest buckets',
      6,
      [
        { record: 0, value: 1 },
        { record: 1, value: 2 },
        { record: 2, value: 3 },
        { record: 3, value: 4 },
        { resize: 2, at: 3 },
        { at: 3, average: 3.5 },
      ],
    ],
    [
      'growing keeps every bucket, still averaged over the written ones',
      2,
      [
        { record: 0, value: 1 },
        { record: 1, value: 3 },
        { resize: 10, at: 1 },
        { at: 1, average: 2 },
        { record: 2, value: 5 },
        { at: 2, average: 3 },
      ],
    ],
    [
      'growing after older data fell out averages over what was kept',
      2,
      [
        { record: 0, value: 100 },
        { record: 1, value: 2 },
        { record: 2, value: 4 },
        { resize: 10, at: 2 },
        { at: 2, average: 3 },
      ],
    ],
    [
      'resizing with no data in the window leaves no data',
      2,
      [
        { record: 0, value: 1 },
        { resize: 10, at: 5 },
        { at: 5, average: 0, empty: true },
      ],
    ],
  ];

  it.each(cases)('%s', (_name, windowSeconds, steps) => {
    run(new LinearBuckets(windowSeconds * 1000), steps);
  });
});

describe('WeightedBuckets', () => {
  it.each([
    [100, 0.2],
    [60, 0.2],
    [40, 0.20567],
    [6, 0.78456],
  ])('smoothing coefficient for %i buckets is %f', (n, want) => {
    expect(smoothingCoefficient(n)).toBeCloseTo(want, 5);
  });

  // A 4 s window has m = 1 - 0.0001^(1/4) = 0.9.
  const cases: [string, [number, number][], number, number][] = [
    [
      'newest bucket weighs most',
      [
        [0, 10],
        [1, 10],
        [2, 5],
        [3, 5],
      ],
      3,
      5 * 0.9 + 5 * 0.09 + 10 * 0.009 + 10 * 0.0009,
    ],
    [
      'reversed data weighs differently',
      [
        [0, 5],
        [1, 5],
        [2, 10],
        [3, 10],
      ],
      3,
      10 * 0.9 + 10 * 0.09 + 5 * 0.009 + 5 * 0.0009,
    ],
    [
      'idle seconds decay the average',
      [
        [0, 10],
        [1, 10],
        [2, 5],
        [3, 5],
      ],
      5,
      5 * 0.009 + 5 * 0.0009,
    ],
    ['a whole window idle is 0', [[0, 10]], 4, 0],
    [
      'several gateways in one bucket add up',
      [
        [0, 4],
        [0, 6],
      ],
      0,
      10 * 0.9,
    ],
  ];

  it.each(cases)('%s', (_name, records, at, want) => {
    const w = new WeightedBuckets(4000);
    for (const [t, v] of records) w.record(s(t), v);
    expect(w.windowAverage(s(at))).toBeCloseTo(want, 9);
    expect(w.isEmpty(s(at))).toBe(false);
  });

  it('has no data before any write or after a window of silence', () => {
    const w = new WeightedBuckets(4000);
    expect(w.isEmpty(s(0))).toBe(true);
    w.record(s(0), 1);
    expect(w.isEmpty(s(5))).toBe(true);
    expect(w.windowAverage(s(5))).toBe(0);
  });

  it('recomputes the smoothing coefficient when resized', () => {
    const w = new WeightedBuckets(4000);
    expect(w.smoothing).toBeCloseTo(0.9, 9);
    w.record(s(0), 10);
    w.resize(40_000, s(0));
    expect(w.smoothing).toBeCloseTo(0.20567, 5);
    expect(w.windowAverage(s(0))).toBeCloseTo(10 * smoothingCoefficient(40), 9);
  });
});
