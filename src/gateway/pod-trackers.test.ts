// Tests of pod trackers: per-pod capacity, reservations released once, and endpoint updates that
// keep in-flight counts for pods that stay, retire pods that leave, and revive a pod that returns.
import { describe, expect, it } from '@jest/globals';
import { PodTracker, PodTrackerSet } from './pod-trackers.ts';

describe('PodTracker', () => {
  it.each([
    ['containerConcurrency 0: no limit', 0, 5, 5],
    ['containerConcurrency 1', 1, 3, 1],
    ['containerConcurrency 3', 3, 5, 3],
  ])('%s', (_name, capacity, attempts, granted) => {
    const t = new PodTracker('10.0.0.1:8080', capacity);
    let got = 0;
    for (let i = 0; i < attempts; i++) if (t.tryReserve() !== undefined) got++;
    expect([got, t.inFlight]).toEqual([granted, granted]);
  });

  it('releases a reservation exactly once however often release() is called', () => {
    const t = new PodTracker('10.0.0.1:8080', 2);
    const r1 = t.tryReserve();
    const r2 = t.tryReserve();
    r1?.release();
    r1?.release();
    expect([t.inFlight, r1?.released, r2?.released]).toEqual([1, true, false]);
    expect(t.hasFreeSlot).toBe(true);
  });
});

describe('PodTrackerSet.update', () => {
  const dests = (set: PodTrackerSet) => set.ready.map((t) => `${t.dest}=${t.inFlight}`);

  const cases: [string, string[][], string[], { added: string[]; removed: string[] }, number][] = [
    [
      'sorts pods and drops duplicates',
      [['10.0.0.2:80', '10.0.0.1:80', '10.0.0.2:80']],
      ['10.0.0.1:80=1', '10.0.0.2:80=1'],
      { added: ['10.0.0.1:80', '10.0.0.2:80'], removed: [] },
      0,
    ],
    [
      'keeps the count of a pod that stays',
      [
        ['10.0.0.1:80', '10.0.0.2:80'],
        ['10.0.0.2:80', '10.0.0.3:80'],
      ],
      ['10.0.0.2:80=1', '10.0.0.3:80=0'],
      { added: ['10.0.0.3:80'], removed: ['10.0.0.1:80'] },
      1,
    ],
    [
      'revives a pod that returns while its requests run',
      [['10.0.0.1:80', '10.0.0.2:80'], ['10.0.0.2:80'], ['10.0.0.1:80', '10.0.0.2:80']],
      ['10.0.0.1:80=1', '10.0.0.2:80=1'],
      { added: ['10.0.0.1:80'], removed: [] },
      0,
    ],
    ['no endpoints', [['10.0.0.1:80'], []], [], { added: [], removed: ['10.0.0.1:80'] }, 1],
  ];
  it.each(cases)('%s', (_name, updates, ready, lastChange, departed) => {
    const set = new PodTrackerSet(2);
    let change = { added: [] as string[], removed: [] as string[] };
    updates.forEach((update, i) => {
      change = set.update(update);
      // After the first update, one request is in flight on every ready pod.
      if (i === 0) for (const t of set.ready) t.tryReserve();
    });
    expect(dests(set)).toEqual(ready);
    expect(change).toEqual(lastChange);
    expect(set.departedInFlight).toBe(departed);
  });

  it('lets a departed pod finish its requests and then forgets it', () => {
    const set = new PodTrackerSet(1);
    set.update(['10.0.0.1:80']);
    const r = set.get('10.0.0.1:80')?.tryReserve();
    set.update([]);
    expect(set.get('10.0.0.1:80')).toBeUndefined();
    expect(set.departedInFlight).toBe(1);
    r?.release();
    expect(set.departedInFlight).toBe(0);
    set.update(['10.0.0.1:80']);
    expect(set.get('10.0.0.1:80')?.inFlight).toBe(0);
  });

  it('rejects a negative containerConcurrency', () => {
    expect(() => new PodTrackerSet(-1)).toThrow('containerConcurrency: expected a whole number >= 0, got -1');
  });
});
