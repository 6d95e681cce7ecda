// Every golden vector of Knative's autoscaler_test.go (reference §2.6) as a table: a decider is
// built, then ticked with ready pods and observed load; each tick states the expected decision.
import { describe, expect, it } from '@jest/globals';
import {
  Decider,
  deciderStatusChanged,
  initialDeciderStatus,
  shouldPoke,
  type DeciderSpec,
  type DeciderStatus,
} from './decider.ts';

const T0 = 1_700_000_000_000; // a multiple of the 2 s delay slot
const at = (seconds: number) => T0 + seconds * 1000;
const MIN = 60;

/** Knative's test decider: TotalValue = Target / 0.75, threshold 200%, rates 10, 60 s window. */
function spec(target: number, tbc: number, overrides: Partial<DeciderSpec> = {}): DeciderSpec {
  return {
    targetValue: target,
    totalValue: target / 0.75,
    targetBurstCapacity: tbc,
    panicThreshold: 2,
    maxScaleUpRate: 10,
    maxScaleDownRate: 10,
    stableWindowMs: 60_000,
    scaleDownDelayMs: 0,
    activationScale: 0,
    reachable: true,
    initialScale: 1,
    ...overrides,
  };
}

/** Knative's scale-down-delay decider: no total value, threshold 100 (never panics). */
function delaySpec(overrides: Partial<DeciderSpec> = {}): DeciderSpec {
  return spec(10, 0, { totalValue: 0, panicThreshold: 100, scaleDownDelayMs: 5 * MIN * 1000, ...overrides });
}

interface Tick {
  /** Seconds after T0. */
  at?: number;
  ready: number;
  stable: number;
  panic: number;
  want: number;
  /** Expected EBC; by default floor(total × ready − TBC − panic), ±1 allowed as in Knative. */
  ebc?: number;
  /** Seconds after T0 of the expected panic time; null: not panicking. */
  panicAt?: number | null;
}

interface Case {
  spec: DeciderSpec;
  /** Ready pods when the decider is built (default 1), and when (seconds after T0). */
  startReady?: number;
  startAt?: number;
  ticks: Tick[];
}

function expectedEBC(s: DeciderSpec, ready: number, panic: number): number {
  if (s.targetBurstCapacity === 0) return 0;
  if (s.targetBurstCapacity === -1) return -1;
  return Math.floor(s.totalValue * ready - s.targetBurstCapacity - panic);
}

const cases: [string, Case][] = [
  ['no data at zero', { spec: spec(10, 100), ticks: [{ ready: 1, stable: 0, panic: 0, want: 0, ebc: -87 }] }],
  ['unlimited TBC', { spec: spec(181, -1), ticks: [{ ready: 1, stable: 21, panic: 26, want: 1, ebc: -1 }] }],
  ['TBC 0', { spec: spec(10, 0), ticks: [{ ready: 1, stable: 50, panic: 49, want: 5, ebc: 0 }] }],
  ['stable mode, no change', { spec: spec(10, 100), ticks: [{ ready: 1, stable: 50, panic: 50, want: 5 }] }],
  [
    'stable mode, already scaled',
    { spec: spec(10, 100), ticks: [{ ready: 5, stable: 50, panic: 50, want: 5 }] },
  ],
  [
    'panic, stable larger than panic: provision for stable',
    {
      spec: spec(1, 100),
      startReady: 5,
      startAt: -5,
      ticks: [{ ready: 5, stable: 50, panic: 30, want: 50, panicAt: 0 }],
    },
  ],
  [
    'panic, stable smaller than panic: provision for panic',
    {
      spec: spec(1, 100),
      startReady: 5,
      startAt: -5,
      ticks: [{ ready: 5, stable: 20, panic: 30, want: 30 }],
    },
  ],
  [
    'small scale-up rate still adds a pod: ceil(1.1 × 2)',
    { spec: spec(1, 1982, { maxScaleUpRate: 1.1 }), ticks: [{ ready: 2, stable: 3, panic: 3.1, want: 3 }] },
  ],
  [
    'small scale-down rate: floor(100 / 1.1)',
    {
      spec: spec(10, 1982, { maxScaleDownRate: 1.1 }),
      ticks: [{ ready: 100, stable: 1, panic: 1, want: 90 }],
    },
  ],
  [
    'small scale-down rate, not reachable: no down-rate limit',
    {
      spec: spec(10, 1982, { maxScaleDownRate: 1.1, reachable: false }),
      ticks: [{ ready: 100, stable: 1, panic: 1, want: 1 }],
    },
  ],
  [
    'panic doubles the pods, capped by the up rate',
    { spec: spec(10, 84), ticks: [{ ready: 1, stable: 50, panic: 100, want: 10, panicAt: 0 }] },
  ],
  [
    'rate limit on the way up',
    {
      spec: spec(10, 61),
      ticks: [
        { ready: 1, stable: 1000, panic: 1001, want: 10 },
        { ready: 10, stable: 1000, panic: 1001, want: 100 },
      ],
    },
  ],
  [
    'rate limit on the way down',
    {
      spec: spec(10, 61),
      ticks: [
        { ready: 100, stable: 1, panic: 1, want: 10 },
        { ready: 10, stable: 1, panic: 1, want: 1 },
      ],
    },
  ],
  [
    'no endpoints: zero ready pods count as one for the rates',
    { spec: spec(10, 81), ticks: [{ ready: 0, stable: 1000, panic: 888, want: 10, ebc: -969 }] },
  ],
  [
    'stable mode increase',
    {
      spec: spec(10, 101),
      ticks: [
        { ready: 1, stable: 50, panic: 10, want: 5, panicAt: null },
        { ready: 1, stable: 100, panic: 10, want: 10, panicAt: null },
      ],
    },
  ],
  [
    'requests-per-second metric (the decider is metric-agnostic)',
    {
      spec: spec(10, 101),
      ticks: [
        { ready: 1, stable: 50, panic: 50, want: 5 },
        { ready: 1, stable: 100, panic: 99, want: 10 },
      ],
    },
  ],
  [
    'stable mode decrease',
    {
      spec: spec(10, 98),
      ticks: [
        { ready: 8, stable: 100, panic: 100, want: 10, panicAt: null },
        { ready: 8, stable: 50, panic: 50, want: 5, panicAt: null },
      ],
    },
  ],
  [
    'no traffic: scale to zero',
    {
      spec: spec(10, 75),
      ticks: [
        { ready: 1, stable: 1, panic: 0, want: 1 },
        { ready: 1, stable: 0, panic: 0, want: 0 },
      ],
    },
  ],
  [
    'activation scale 2: zero stays zero, any load means at least 2',
    {
      spec: spec(10, 75, { activationScale: 2 }),
      ticks: [
        { ready: 1, stable: 0, panic: 0, want: 0 },
        { ready: 1, stable: 1, panic: 1, want: 2 },
      ],
    },
  ],
  [
    'panic mode tracks exponential growth and stabilizes',
    {
      spec: spec(1, 101),
      ticks: [
        { at: 0, ready: 1, stable: 6, panic: 6, want: 6, panicAt: 0 },
        { at: 0, ready: 6, stable: 36, panic: 36, want: 36, panicAt: 0 },
        { at: 1, ready: 36, stable: 216, panic: 216, want: 216, panicAt: 1 },
        { at: 1, ready: 216, stable: 1296, panic: 1296, want: 1296, panicAt: 1 },
        { at: 2, ready: 1296, stable: 1296, panic: 1296, want: 1296, panicAt: 1 },
      ],
    },
  ],
  [
    'panic, then un-panic a stable window later',
    {
      spec: spec(10, 93),
      ticks: [
        { at: 0, ready: 1, stable: 100, panic: 100, want: 10 },
        { at: 1, ready: 10, stable: 100, panic: 1000, want: 100, panicAt: 1 },
        { at: 31, ready: 10, stable: 1, panic: 1, want: 100, panicAt: 1 },
        { at: 62, ready: 10, stable: 1, panic: 1, want: 1, panicAt: null },
      ],
    },
  ],
  [
    'un-panic after a slow increase',
    {
      spec: spec(1, 98),
      ticks: [
        { at: 0, ready: 10, stable: 11, panic: 25, want: 25, panicAt: 0 },
        { at: 30, ready: 40, stable: 30, panic: 41, want: 41, panicAt: 0 },
        { at: 62, ready: 55, stable: 50, panic: 56, want: 50, panicAt: null },
      ],
    },
  ],
  [
    'extend panic while still over the threshold',
    {
      spec: spec(1, 98),
      ticks: [
        { at: 0, ready: 10, stable: 11, panic: 25, want: 25, panicAt: 0 },
        { at: 30, ready: 40, stable: 30, panic: 80, want: 80, panicAt: 30 },
      ],
    },
  ],
  [
    'scale-down delay 5 min: simple, then gradual',
    {
      spec: delaySpec(),
      startReady: 0,
      ticks: [
        { at: 2, ready: 0, stable: 40, panic: 40, want: 4 },
        { at: 5 * MIN, ready: 0, stable: 0, panic: 0, want: 4 },
        { at: 5 * MIN + 2, ready: 0, stable: 0, panic: 0, want: 0 },
        { at: 9 * MIN, ready: 0, stable: 40, panic: 40, want: 4 },
        { at: 10 * MIN, ready: 0, stable: 30, panic: 30, want: 4 },
        { at: 11 * MIN, ready: 0, stable: 0, panic: 0, want: 4 },
        { at: 14 * MIN, ready: 0, stable: 0, panic: 0, want: 3 },
        { at: 15 * MIN, ready: 0, stable: 0, panic: 0, want: 0 },
      ],
    },
  ],
  [
    'scale-down delay, but not reachable: no delay',
    {
      spec: delaySpec({ reachable: false }),
      startReady: 0,
      ticks: [
        { at: 2, ready: 0, stable: 40, panic: 40, want: 4 },
        { at: 4, ready: 0, stable: 0, panic: 0, want: 0 },
      ],
    },
  ],
  [
    'scale-down delay 0: scale down at once, even within one slot',
    {
      spec: delaySpec({ scaleDownDelayMs: 0 }),
      startReady: 0,
      ticks: [
        { at: 0, ready: 0, stable: 40, panic: 40, want: 4 },
        { at: 0.5, ready: 0, stable: 20, panic: 20, want: 2 },
      ],
    },
  ],
];

describe('Decider.scale', () => {
  it.each(cases)('%s', (_name, c) => {
    const d = new Decider(c.spec, at(c.startAt ?? 0), c.startReady ?? 1);
    c.ticks.forEach((tick, i) => {
      const got = d.scale(at(tick.at ?? 0), tick.ready, { stable: tick.stable, panic: tick.panic });
      expect({ tick: i, desired: got.desiredPodCount, valid: got.valid }).toEqual({
        tick: i,
        desired: tick.want,
        valid: true,
      });
      const ebc = tick.ebc ?? expectedEBC(c.spec, tick.ready, tick.panic);
      expect(Math.abs(got.excessBurstCapacity - ebc)).toBeLessThanOrEqual(1);
      if (tick.panicAt !== undefined) {
        expect({ tick: i, panicTime: d.panicTime }).toEqual({
          tick: i,
          panicTime: tick.panicAt === null ? undefined : at(tick.panicAt),
        });
      }
    });
  });

  it.each([
    ['pods could not be counted', undefined, { stable: 1000, panic: 888 }],
    ['no metric data', 1, undefined],
  ] as const)('%s: no decision', (_name, ready, observed) => {
    const d = new Decider(spec(10, 81), at(0), 1);
    expect(d.scale(at(0), ready, observed)).toEqual({
      desiredPodCount: 0,
      excessBurstCapacity: 0,
      valid: false,
    });
    expect(d.panicking).toBe(false);
  });

  it.each([
    [0, false],
    [1, false],
    [2, true],
  ])('built with %i ready pods: panicking %s, maxPanicPods = ready', (ready, panicking) => {
    const d = new Decider(spec(100, 11, { totalValue: 120, panicThreshold: 2.2 }), at(0), ready);
    expect([d.panicking, d.maxPanicPods]).toEqual([panicking, ready]);
  });

  it('takes a new target on update', () => {
    const d = new Decider(spec(10, 77), at(0), 1);
    expect(d.scale(at(0), 1, { stable: 100, panic: 101 }).desiredPodCount).toBe(10);
    d.update(spec(1, 71));
    const got = d.scale(at(0), 10, { stable: 100, panic: 101 });
    expect(got.desiredPodCount).toBe(100);
    expect(Math.abs(got.excessBurstCapacity - Math.floor((1 / 0.75) * 10 - 71 - 101))).toBeLessThanOrEqual(1);
  });

  it('adds, resizes and drops the scale-down delay on update', () => {
    const d = new Decider(delaySpec({ scaleDownDelayMs: 0 }), at(0), 0);
    d.update(delaySpec({ scaleDownDelayMs: 10_000 }));
    expect(d.scale(at(0), 0, { stable: 40, panic: 40 }).desiredPodCount).toBe(4);
    expect(d.scale(at(8), 0, { stable: 0, panic: 0 }).desiredPodCount).toBe(4);
    d.update(delaySpec({ scaleDownDelayMs: 4_000 }));
    expect(d.scale(at(10), 0, { stable: 10, panic: 10 }).desiredPodCount).toBe(1);
    d.update(delaySpec({ scaleDownDelayMs: 0 }));
    expect(d.scale(at(10), 0, { stable: 0, panic: 0 }).desiredPodCount).toBe(0);
  });
});

describe('initialDeciderStatus', () => {
  it.each([
    ['unlimited TBC', { targetBurstCapacity: -1, initialScale: 1, totalValue: 100 }, -1],
    ['TBC 0', { targetBurstCapacity: 0, initialScale: 1, totalValue: 100 }, 0],
    [
      'initial pods short of the burst capacity',
      { targetBurstCapacity: 200, initialScale: 1, totalValue: 100 },
      -100,
    ],
    ['initial pods cover it', { targetBurstCapacity: 200, initialScale: 3, totalValue: 100 }, 100],
    ['truncated toward zero', { targetBurstCapacity: 10, initialScale: 1, totalValue: 7.5 }, -2],
  ])('%s', (_name, s, ebc) => {
    expect(initialDeciderStatus(s)).toEqual({ desiredScale: -1, excessBurstCapacity: ebc });
  });
});

describe('deciderStatusChanged', () => {
  const st = (desiredScale: number, excessBurstCapacity: number): DeciderStatus => ({
    desiredScale,
    excessBurstCapacity,
  });
  it.each([
    ['same', st(3, 5), st(3, 5), false],
    ['scale changed', st(3, 5), st(4, 5), true],
    ['EBC changed, same sign', st(3, 5), st(3, 100), false],
    ['EBC negative to zero', st(3, -1), st(3, 0), true],
    ['EBC positive to negative', st(3, 4), st(3, -4), true],
    ['EBC more negative', st(3, -1), st(3, -50), false],
  ])('%s', (_name, previous, next, want) => {
    expect(deciderStatusChanged(previous, next)).toBe(want);
  });
});

describe('shouldPoke', () => {
  it.each([
    [0, 1, true],
    [0, 0, false],
    [-1, 1, true],
    [-1, 0, false],
    [3, 1, false],
  ])('latest scale %i, concurrency %f: %s', (latest, concurrency, want) => {
    expect(shouldPoke(latest, concurrency)).toBe(want);
  });
});
