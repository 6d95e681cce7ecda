// Tests for the memory of just-created children: served until the cache shows the child, then the
// cache wins; forgotten after the TTL.
import { describe, expect, it } from '@jest/globals';
import { RecentlyCreated } from './recently-created.ts';

interface Obj {
  name: string;
  version: string;
}

const created: Obj = { name: 'a', version: 'created' };
const cached: Obj = { name: 'a', version: 'cached' };

describe('RecentlyCreated', () => {
  it('serves nothing it was not told about', () => {
    const recent = new RecentlyCreated<Obj>();
    expect(recent.resolve('ns/a', undefined, 0)).toBeUndefined();
    expect(recent.resolve('ns/a', cached, 0)).toBe(cached);
  });

  it('serves the created object while the cache lacks it', () => {
    const recent = new RecentlyCreated<Obj>(1_000);
    recent.remember('ns/a', created, 100);
    expect(recent.resolve('ns/a', undefined, 100)).toBe(created);
    expect(recent.resolve('ns/a', undefined, 1_100)).toBe(created);
    expect(recent.resolve('ns/b', undefined, 100)).toBeUndefined();
  });

  it('lets the cache win once it shows the object, and forgets its own copy', () => {
    const recent = new RecentlyCreated<Obj>(1_000);
    recent.remember('ns/a', created, 100);
    expect(recent.resolve('ns/a', cached, 200)).toBe(cached);
    expect(recent.size).toBe(0);
    // Deleted afterwards: the cache no longer has it, and neither does the memory.
    expect(recent.resolve('ns/a', undefined, 300)).toBeUndefined();
  });

  it('forgets a child the cache never showed after the TTL', () => {
    const recent = new RecentlyCreated<Obj>(1_000);
    recent.remember('ns/a', created, 100);
    expect(recent.resolve('ns/a', undefined, 1_101)).toBeUndefined();
    expect(recent.size).toBe(0);
  });

  it('keeps the newest copy when a key is remembered twice', () => {
    const recent = new RecentlyCreated<Obj>(1_000);
    const again: Obj = { name: 'a', version: 'again' };
    recent.remember('ns/a', created, 100);
    recent.remember('ns/a', again, 900);
    expect(recent.resolve('ns/a', undefined, 1_500)).toBe(again);
  });
});
