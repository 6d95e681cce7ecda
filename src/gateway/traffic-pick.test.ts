// Table tests of the weighted revision pick: boundaries of each share, 0 % targets, and a 70/30
// split measured over many draws from a seeded generator.
import { describe, expect, it } from '@jest/globals';
import { pickTarget } from './traffic-pick.ts';

/** mulberry32: a small seeded generator, so the statistical test is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const target = (name: string, percent: number) => ({ name, percent });

describe('pickTarget', () => {
  const cases: [string, { name: string; percent: number }[], number, string | undefined][] = [
    ['nothing to pick', [], 0.5, undefined],
    ['every target at 0 %', [target('a', 0), target('b', 0)], 0.5, undefined],
    ['a single target needs no draw', [target('a', 100)], Number.NaN, 'a'],
    ['one share among zeros needs no draw', [target('z', 0), target('a', 100)], Number.NaN, 'a'],
    ['draw 0 lands on the first share', [target('a', 70), target('b', 30)], 0, 'a'],
    ['draw just under 0.7 stays on the first', [target('a', 70), target('b', 30)], 0.6999, 'a'],
    ['draw 0.7 moves to the second', [target('a', 70), target('b', 30)], 0.7, 'b'],
    ['draw just under 1 lands on the last', [target('a', 70), target('b', 30)], 0.999999, 'b'],
    ['0 % targets are skipped', [target('a', 50), target('z', 0), target('b', 50)], 0.5, 'b'],
    ['shares need not add to 100', [target('a', 1), target('b', 3)], 0.3, 'b'],
  ];
  it.each(cases)('%s', (_name, targets, draw, expected) => {
    expect(pickTarget(targets, () => draw)?.name).toBe(expected);
  });

  it('splits 70/30 over 100,000 seeded draws within 1 %', () => {
    const random = seeded(42);
    const targets = [target('a', 70), target('b', 30)];
    let a = 0;
    const draws = 100_000;
    for (let i = 0; i < draws; i++) if (pickTarget(targets, random)?.name === 'a') a++;
    expect(Math.abs(a / draws - 0.7)).toBeLessThan(0.01);
  });
});
