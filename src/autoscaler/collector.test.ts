// Table tests of per-revision collection: gateway replicas' stats summed per second into the stable
// and panic windows, for concurrency and requests per second, with no-data and window changes.
import { describe, expect, it } from '@jest/globals';
import { MetricCollector, type GatewayStat, type MetricSpec } from './collector.ts';

const T0 = 1_700_000_000_000;
const at = (seconds: number) => T0 + seconds * 1000;
const KEY = 'default/hello-00001';
const LINEAR: MetricSpec = { stableWindowMs: 60_000, panicWindowMs: 6_000, algorithm: 'linear' };

function stat(podName: string, second: number, averageConcurrency: number, requestCount = 0): GatewayStat {
  // Replicas report at different offsets within the second.
  return { podName, revisionKey: KEY, averageConcurrency, requestCount, time: at(second) + 137 };
}

/** `seconds` reports, one a second from `from`, of one gateway replica. */
function steady(podName: string, from: number, seconds: number, concurrency: number, rps = 0): GatewayStat[] {
  return Array.from({ length: seconds }, (_, i) => stat(podName, from + i, concurrency, rps));
}

describe('MetricCollector', () => {
  const cases: [
    string,
    GatewayStat[],
    number,
    'concurrency' | 'rps',
    { stable: number; panic: number } | undefined,
  ][] = [
    [
      'three gateway replicas add up',
      [...steady('gw-a', 0, 10, 10), ...steady('gw-b', 0, 10, 10), ...steady('gw-c', 0, 10, 10)],
      9,
      'concurrency',
      { stable: 30, panic: 30 },
    ],
    [
      'a burst shows in the panic window first',
      [...steady('gw-a', 0, 60, 10), ...steady('gw-b', 54, 6, 100)],
      59,
      'concurrency',
      { stable: 20, panic: 110 },
    ],
    [
      'requests per second come from the request counts',
      [...steady('gw-a', 0, 60, 1, 40), ...steady('gw-b', 0, 60, 2, 60)],
      59,
      'rps',
      { stable: 100, panic: 100 },
    ],
    [
      'a partial window right after the first stat',
      steady('gw-a', 0, 3, 12),
      2,
      'concurrency',
      { stable: 12, panic: 12 },
    ],
    [
      'silence after traffic: the panic window empties, the stable one averages what is left',
      steady('gw-a', 0, 60, 10),
      65,
      'concurrency',
      { stable: 10, panic: 0 },
    ],
    ['no stat yet: no data', [], 0, 'concurrency', undefined],
    ['a whole stable window of silence: no data', steady('gw-a', 0, 5, 10), 65, 'concurrency', undefined],
  ];

  it.each(cases)('%s', (_name, stats, now, metric, want) => {
    const c = new MetricCollector();
    c.set(KEY, LINEAR, at(0));
    for (const s of stats) expect(c.record(s)).toBe(true);
    expect(c.stableAndPanic(KEY, at(now), metric)).toEqual(want);
  });

  it('drops stats of revisions it does not collect, and forgets deleted ones', () => {
    const c = new MetricCollector();
    expect(c.record(stat('gw-a', 0, 5))).toBe(false);
    expect(c.stableAndPanic(KEY, at(0), 'concurrency')).toBeUndefined();
    c.set(KEY, LINEAR, at(0));
    expect(c.record(stat('gw-a', 0, 5))).toBe(true);
    c.delete(KEY);
    expect(c.get(KEY)).toBeUndefined();
    expect(c.record(stat('gw-a', 1, 5))).toBe(false);
  });

  it('resizes the windows when the window annotation changes', () => {
    const c = new MetricCollector();
    c.set(KEY, LINEAR, at(0));
    for (const s of [...steady('gw-a', 0, 50, 2), ...steady('gw-a', 50, 10, 14)]) c.record(s);
    expect(c.stableAndPanic(KEY, at(59), 'concurrency')).toEqual({ stable: 4, panic: 14 });
    c.set(KEY, { ...LINEAR, stableWindowMs: 10_000, panicWindowMs: 1_000 }, at(59));
    expect(c.stableAndPanic(KEY, at(59), 'concurrency')).toEqual({ stable: 14, panic: 14 });
  });

  it('averages with exponential weights when asked to', () => {
    const c = new MetricCollector();
    const weighted: MetricSpec = {
      stableWindowMs: 60_000,
      panicWindowMs: 6_000,
      algorithm: 'weighted-exponential',
    };
    c.set(KEY, weighted, at(0));
    c.record(stat('gw-a', 0, 10));
    const got = c.stableAndPanic(KEY, at(0), 'concurrency');
    // One bucket: the newest weighs m (0.2 for 60 buckets, 0.78456 for 6).
    expect(got?.stable).toBeCloseTo(2, 9);
    expect(got?.panic).toBeCloseTo(7.8456, 4);
    // Switching algorithm starts over.
    c.set(KEY, LINEAR, at(0));
    expect(c.stableAndPanic(KEY, at(0), 'concurrency')).toBeUndefined();
  });

  it('remembers when traffic was last seen', () => {
    const c = new MetricCollector();
    const r = c.set(KEY, LINEAR, at(0));
    expect(r.lastTrafficAt).toBeUndefined();
    c.record(stat('gw-a', 3, 0, 2));
    c.record(stat('gw-b', 5, 0.5));
    c.record(stat('gw-a', 9, 0, 0));
    c.record(stat('gw-b', 4, 1)); // late, from another replica
    expect(r.lastTrafficAt).toBe(at(5) + 137);
    expect(r.sawTrafficSince(at(5))).toBe(true);
    expect(r.sawTrafficSince(at(6))).toBe(false);
  });
});
