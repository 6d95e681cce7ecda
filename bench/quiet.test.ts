import { describe, expect, test } from '@jest/globals';
import { isQuiet } from './quiet.ts';

describe('isQuiet', () => {
  const rule = { maxBusyCores: 0.3, seconds: 3 };
  test.each([
    ['too few samples', [0.1, 0.1], false],
    ['the last three quiet', [1.9, 0.2, 0.1, 0.3], true],
    ['one busy second among the last three', [0.1, 0.1, 0.5, 0.1], false],
    ['busy now after a quiet spell', [0.1, 0.1, 0.1, 0.9], false],
    ['exactly at the limit', [0.3, 0.3, 0.3], true],
  ])('%s', (_what, samples, quiet) => {
    expect(isQuiet(samples, rule)).toBe(quiet);
  });
});
