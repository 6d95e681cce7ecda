// Table tests of the pod-picking policies: which policy each containerConcurrency gets, random
// choice of two with scripted draws, first available, and round robin skipping full pods.
import { describe, expect, it } from '@jest/globals';
import { FirstAvailable, lbPolicyFor, RandomChoiceOfTwo, RoundRobin, type LBPolicy } from './lb-policy.ts';
import { PodTracker } from './pod-trackers.ts';

/** Trackers p0..pn-1 with the given requests already in flight. */
function pods(capacity: number, inFlight: number[]): PodTracker[] {
  return inFlight.map((n, i) => {
    const t = new PodTracker(`p${i}`, capacity);
    for (let k = 0; k < n; k++) t.tryReserve();
    return t;
  });
}

/** A random source that replays the given draws. */
function script(...draws: number[]): () => number {
  let i = 0;
  return () => draws[i++] ?? 0;
}

describe('lbPolicyFor', () => {
  it.each([
    [0, RandomChoiceOfTwo],
    [1, FirstAvailable],
    [3, FirstAvailable],
    [4, RoundRobin],
    [100, RoundRobin],
  ])('containerConcurrency %d', (cc, kind) => {
    expect(lbPolicyFor(cc)).toBeInstanceOf(kind);
  });
});

describe('RandomChoiceOfTwo', () => {
  const cases: [string, number[], number[], string | undefined][] = [
    ['no pods', [], [], undefined],
    ['one pod needs no draw', [7], [], 'p0'],
    ['two pods: the less loaded', [3, 1], [], 'p1'],
    ['two pods tied: coin below 0.5 takes the other', [2, 2], [0.2], 'p1'],
    ['two pods tied: coin at 0.5 keeps the first', [2, 2], [0.5], 'p0'],
    // Draws: i = floor(0.5 * 4) = 2; j = floor(0.9 * 3) = 2, bumped past i to 3.
    ['second draw skips the first index', [0, 0, 5, 1], [0.5, 0.9], 'p3'],
    // i = floor(0.75 * 4) = 3; j = floor(0 * 3) = 0.
    ['picks the less loaded of the two drawn', [4, 0, 0, 2], [0.75, 0], 'p3'],
  ];
  it.each(cases)('%s', (_name, load, draws, expected) => {
    const trackers = pods(0, load);
    const r = new RandomChoiceOfTwo(script(...draws)).pick(trackers);
    expect(r?.tracker.dest).toBe(expected);
    if (r !== undefined) expect(r.tracker.inFlight).toBe((load[Number(expected?.slice(1))] ?? 0) + 1);
  });

  it('falls back to the other pod when the preferred one is full', () => {
    const trackers = pods(1, [1, 0]);
    trackers.reverse();
    // First p1 (free) beats p0 (full); then both are full, the tie keeps p1 and neither has room.
    const policy = new RandomChoiceOfTwo(script(0.9, 0.9));
    expect(policy.pick(trackers)?.tracker.dest).toBe('p1');
    expect(policy.pick(trackers)).toBeUndefined();
  });
});

function sequence(policy: LBPolicy, trackers: PodTracker[], picks: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (let i = 0; i < picks; i++) out.push(policy.pick(trackers)?.tracker.dest);
  return out;
}

describe('FirstAvailable and RoundRobin', () => {
  const cases: [string, () => LBPolicy, number, number[], number, (string | undefined)[]][] = [
    [
      'first available fills pods in order',
      () => new FirstAvailable(),
      2,
      [0, 0],
      5,
      ['p0', 'p0', 'p1', 'p1', undefined],
    ],
    ['first available skips full pods', () => new FirstAvailable(), 1, [1, 0, 1], 2, ['p1', undefined]],
    ['round robin cycles', () => new RoundRobin(), 10, [0, 0, 0], 4, ['p0', 'p1', 'p2', 'p0']],
    ['round robin skips full pods', () => new RoundRobin(), 4, [4, 0, 4], 3, ['p1', 'p1', 'p1']],
    ['round robin with every pod full', () => new RoundRobin(), 4, [4, 4], 1, [undefined]],
    ['round robin with no pods', () => new RoundRobin(), 4, [], 1, [undefined]],
  ];
  it.each(cases)('%s', (_name, make, capacity, load, picks, expected) => {
    expect(sequence(make(), pods(capacity, load), picks)).toEqual(expected);
  });

  it('round robin restarts at the front when the pod list shrinks', () => {
    const policy = new RoundRobin();
    const three = pods(10, [0, 0, 0]);
    expect(sequence(policy, three, 3)).toEqual(['p0', 'p1', 'p2']);
    expect(sequence(policy, three.slice(0, 2), 1)).toEqual(['p0']);
  });

  it('a released reservation frees the slot for the next pick', () => {
    const trackers = pods(1, [0]);
    const policy = new FirstAvailable();
    const r = policy.pick(trackers);
    expect(policy.pick(trackers)).toBeUndefined();
    r?.release();
    expect(policy.pick(trackers)?.tracker.dest).toBe('p0');
  });
});
