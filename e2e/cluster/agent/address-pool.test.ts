// The node agent's pod address pool: addresses go round the range, so a freed address is not
// reused at once (neighbours may still cache its old MAC), and reserved ones are skipped.
import { describe, expect, it } from '@jest/globals';
import { AddressPool } from './sandbox.ts';

describe('AddressPool', () => {
  it('hands out the next address rather than the lowest free one', () => {
    const pool = new AddressPool();
    const a = pool.allocate();
    const b = pool.allocate();
    expect([a, b]).toEqual(['10.244.1.0', '10.244.1.1']);
    pool.release(a);
    expect(pool.allocate()).toBe('10.244.1.2');
  });

  it('continues after addresses reserved for pods that already run', () => {
    const pool = new AddressPool();
    pool.reserve('10.244.1.7');
    expect(pool.allocate()).toBe('10.244.1.8');
  });
});
