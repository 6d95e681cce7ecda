import { describe, expect, test } from '@jest/globals';
import { resyncShare } from './informer.ts';

describe('resyncShare', () => {
  const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);

  test('delivers every key exactly once per period, in even slices', () => {
    const slices = Array.from({ length: 4 }, (_, tick) => resyncShare(keys, tick, 4));
    expect(slices.map((s) => s.length)).toEqual([3, 3, 3, 1]);
    expect(slices.flat()).toEqual(keys);
  });

  test('with more ticks than keys, a tick delivers at most one key', () => {
    const slices = Array.from({ length: 600 }, (_, tick) => resyncShare(keys, tick, 600));
    expect(Math.max(...slices.map((s) => s.length))).toBe(1);
    expect(slices.flat()).toEqual(keys);
  });

  test('one tick per period delivers everything at once', () => {
    expect(resyncShare(keys, 0, 1)).toEqual(keys);
  });

  test('an empty cache delivers nothing', () => {
    expect(resyncShare([], 0, 10)).toEqual([]);
  });
});
