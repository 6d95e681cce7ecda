// Quantities as apimachinery's resource.MustParse reads them, and Value() rounds them.
import { describe, expect, it } from '@jest/globals';
import { parseQuantity, quantityValue } from './quantity.ts';

describe('parseQuantity and quantityValue', () => {
  it.each<[string | number, bigint]>([
    ['128Mi', 134_217_728n],
    ['350Mi', 367_001_600n],
    ['64Mi', 67_108_864n],
    ['0.5Gi', 536_870_912n],
    ['1Ki', 1024n],
    ['1G', 1_000_000_000n],
    ['500M', 500_000_000n],
    ['1e9', 1_000_000_000n],
    ['1E3', 1000n],
    ['1.5k', 1500n],
    ['.5Ki', 512n],
    ['12', 12n],
    [2048, 2048n],
    ['0', 0n],
    // Fractions round up, as Value() does.
    ['500m', 1n],
    ['1001m', 2n],
    ['1.5', 2n],
    ['100u', 1n],
    ['-1.5', -1n],
  ])('%s is %s', (text, value) => {
    const q = parseQuantity(text);
    expect(q).toBeDefined();
    if (q !== undefined) expect(quantityValue(q)).toBe(value);
  });

  it.each<unknown>(['', 'Mi', '12MB', '1 Gi', '1ki', '1.2.3', 'e3', '1e', '1e100', undefined, null, {}])(
    '%p is not a quantity',
    (text) => {
      expect(parseQuantity(text)).toBeUndefined();
    },
  );

  it('reads exactly, so equal values compare equal however spelt', () => {
    expect(parseQuantity('0.5')).toEqual({ digits: 5n, exponent: -1 });
    expect(parseQuantity('500m')).toEqual({ digits: 500n, exponent: -3 });
    expect(parseQuantity('1Mi')).toEqual({ digits: 1_048_576n, exponent: 0 });
  });
});
