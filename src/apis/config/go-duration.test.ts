// Table tests of Go's time.ParseDuration and Duration.String() as ebb reimplements them.
import { describe, expect, it } from '@jest/globals';
import { formatGoDuration, parseGoDuration } from './go-duration.ts';

describe('Go durations', () => {
  const parsing: [string, string[], (number | undefined)[]][] = [
    [
      'unit pairs, decimals and leading or trailing dots',
      ['1h30m', '1.5h', '300ms', '2m0.5s', '.5s', '5.s'],
      [5_400_000, 5_400_000, 300, 120_500, 500, 5_000],
    ],
    [
      'signs, bare zero and sub-millisecond units',
      ['-1m', '+5s', '0', '-0', '1500us', '1µs'],
      [-60_000, 5_000, 0, 0, 1.5, 0.001],
    ],
    [
      'text that is not a Go duration',
      ['', '1d', '10', '.s', '1h-1m', 's', '1 h'],
      [undefined, undefined, undefined, undefined, undefined, undefined, undefined],
    ],
  ];

  it.each(parsing)('parses %s', (_name, inputs, expected) => {
    expect(inputs.map(parseGoDuration)).toEqual(expected);
  });

  const formatting: [string, number[], string[]][] = [
    ['zero and below one second with one unit', [0, 1.5, 0.3, 0.00001], ['0s', '1.5ms', '300µs', '10ns']],
    [
      'seconds, minutes and hours, with zero minutes kept under hours',
      [6_000, 30_000, 60_000, 61_984, 3_600_000, 90_061_000, -1_500],
      ['6s', '30s', '1m0s', '1m1.984s', '1h0m0s', '25h1m1s', '-1.5s'],
    ],
  ];

  it.each(formatting)('formats %s', (_name, inputs, expected) => {
    expect(inputs.map(formatGoDuration)).toEqual(expected);
  });
});
