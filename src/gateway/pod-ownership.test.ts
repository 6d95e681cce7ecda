// Pod ownership among gateway replicas: every pod has exactly one owner in every replica's view,
// pods coming and going never move the others, and a replica set change moves only what it must.
import { describe, expect, it } from '@jest/globals';
import { podOwner, podOwnership, revisionCapacity } from './pod-ownership.ts';

const pods = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `10.0.${String(i >> 8)}.${String(i & 255)}:8080`);
const gateways = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.1.0.${String(i + 1)}:8082`);

describe('podOwnership', () => {
  it.each([
    [1, 2],
    [2, 2],
    [3, 2],
    [1, 3],
    [5, 3],
    [40, 3],
    [7, 5],
  ])('gives each of %i pods to exactly one of %i replicas', (n, k) => {
    const all = pods(n);
    const gws = gateways(k);
    const owned = gws.flatMap((g) => podOwnership(all, g, gws, 1).owned);
    expect(owned.sort()).toEqual([...all].sort());
    for (const g of gws) {
      const { owned: mine, owners } = podOwnership(all, g, gws, 1);
      // The others it names own the rest.
      const rest = all.filter((p) => !mine.includes(p));
      expect(new Set(rest.map((p) => podOwner(p, gws)))).toEqual(new Set(owners));
      expect(owners).not.toContain(g);
    }
  });

  it('keeps every other pod with its owner when a pod comes or goes', () => {
    const gws = gateways(3);
    const ownerIn = (list: string[]): Map<string, string> =>
      new Map(gws.flatMap((g) => podOwnership(list, g, gws, 1).owned.map((p) => [p, g] as const)));
    const before = pods(12);
    const after = [...before.slice(1), '10.0.9.9:8080'];
    const was = ownerIn(before);
    const now = ownerIn(after);
    for (const p of before.slice(1)) expect(now.get(p)).toBe(was.get(p));
    expect(now.has('10.0.9.9:8080')).toBe(true);
  });

  it('moves only the leaving replica’s pods when a replica goes', () => {
    const all = pods(60);
    const gws = gateways(4);
    const left = gws.slice(1);
    for (const p of all) {
      const owner = podOwner(p, gws);
      if (owner !== gws[0]) expect(podOwner(p, left)).toBe(owner);
    }
  });

  it('owns every pod when nothing needs sharing: no limit, or no other replica', () => {
    const all = pods(4);
    expect(podOwnership(all, 'a:1', ['a:1', 'b:1'], 0)).toEqual({ owned: [...all].sort(), owners: [] });
    expect(podOwnership(all, 'a:1', ['a:1'], 1)).toEqual({ owned: [...all].sort(), owners: [] });
    expect(podOwnership(all, 'a:1', [], 1)).toEqual({ owned: [...all].sort(), owners: [] });
  });

  it('owns nothing while it is not among the ready replicas, and names the owners', () => {
    const all = pods(4);
    const result = podOwnership(all, 'c:1', ['a:1', 'b:1'], 1);
    expect(result.owned).toEqual([]);
    expect(result.owners.length).toBeGreaterThan(0);
  });

  it('spreads many pods over the replicas', () => {
    const all = pods(300);
    const gws = gateways(3);
    for (const g of gws) {
      const share = podOwnership(all, g, gws, 1).owned.length;
      expect(share).toBeGreaterThan(60);
      expect(share).toBeLessThan(140);
    }
  });
});

describe('revisionCapacity', () => {
  it.each([
    [1, 0, 0],
    [1, 3, 3],
    [4, 2, 8],
    [0, 2, Infinity],
    [0, 0, 0],
  ])('containerConcurrency %i over %i owned pods: %p', (cc, owned, want) => {
    expect(revisionCapacity(cc, owned)).toBe(want);
  });
});
