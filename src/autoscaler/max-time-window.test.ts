// Table tests of the max-over-time window behind scale-down-delay.
import { describe, expect, it } from '@jest/globals';
import { MaxTimeWindow } from './max-time-window.ts';

const sec = (n: number) => n * 1000;
const min = (n: number) => n * 60_000;

type Step = [at: number, value: number, wantMax: number] | ['resize', durationMs: number];

describe('MaxTimeWindow', () => {
  const cases: [string, number, Step[]][] = [
    [
      'a 5 min window in 2 s slots (the decider scale-down-delay vectors)',
      min(5),
      [
        [sec(2), 4, 4],
        [min(5), 0, 4],
        [min(5) + sec(2), 0, 0],
        [min(9), 4, 4],
        [min(10), 3, 4],
        [min(11), 0, 4],
        [min(14), 0, 3],
        [min(15), 0, 0],
      ],
    ],
    [
      'values in the same slot: the largest wins',
      sec(10),
      [
        [sec(0), 5, 5],
        [sec(1), 2, 5],
        [sec(1.5), 7, 7],
      ],
    ],
    [
      'a rising value replaces every smaller one',
      sec(10),
      [
        [sec(0), 1, 1],
        [sec(2), 2, 2],
        [sec(4), 3, 3],
        [sec(20), 0, 0],
      ],
    ],
    [
      'falling values step down one by one as they expire',
      sec(6),
      [
        [sec(0), 3, 3],
        [sec(2), 2, 3],
        [sec(4), 1, 3],
        [sec(6), 0, 2],
        [sec(8), 0, 1],
        [sec(10), 0, 0],
      ],
    ],
    [
      'shrinking lets older maxima expire on the next record',
      min(5),
      [
        [sec(0), 9, 9],
        [sec(10), 1, 9],
        ['resize', sec(4)],
        [sec(12), 1, 1],
      ],
    ],
    [
      'growing keeps maxima longer',
      sec(4),
      [
        [sec(0), 9, 9],
        ['resize', sec(60)],
        [sec(10), 1, 9],
      ],
    ],
  ];

  it.each(cases)('%s', (_name, durationMs, steps) => {
    const w = new MaxTimeWindow(durationMs);
    for (const step of steps) {
      if (step[0] === 'resize') {
        w.resize(step[1]);
        continue;
      }
      const [at, value, wantMax] = step;
      w.record(at, value);
      expect([at, w.current()]).toEqual([at, wantMax]);
    }
  });

  it('is 0 before any record', () => {
    expect(new MaxTimeWindow(sec(10)).current()).toBe(0);
  });
});
