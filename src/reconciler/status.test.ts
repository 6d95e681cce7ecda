// Table tests for holding back progress-only status writes.
import { describe, expect, it } from '@jest/globals';
import { progressHoldMs, readyStatus, type ProgressHoldInput } from './status.ts';

const base: ProgressHoldInput = {
  now: 10_000,
  settleMs: 1_000,
  since: 10_000,
  lastWriteAt: undefined,
  observed: false,
};

describe('progressHoldMs', () => {
  it.each<[string, Partial<ProgressHoldInput>, number]>([
    ['a generation just seen waits the whole settle time', {}, 1_000],
    ['a generation seen 400 ms ago waits the remaining 600 ms', { since: 9_600 }, 600],
    ['a generation seen the settle time ago is written', { since: 9_000 }, 0],
    ['a generation seen long ago is written', { since: 1_000 }, 0],
    [
      'progress after a write of this generation waits for the settle time since that write',
      { observed: true, since: 1_000, lastWriteAt: 9_700 },
      700,
    ],
    [
      'progress long after the last write is written',
      { observed: true, since: 1_000, lastWriteAt: 5_000 },
      0,
    ],
    // Observed but not written by this writer (another leader, a restart): nothing to wait for.
    ['progress on a status this writer did not write is written', { observed: true, since: 10_000 }, 0],
    ['a settle time of 0 never holds', { settleMs: 0 }, 0],
  ])('%s', (_name, change, want) => {
    expect(progressHoldMs({ ...base, ...change })).toBe(want);
  });
});

describe('readyStatus', () => {
  it('reads the Ready condition, Unknown when it is missing', () => {
    expect(readyStatus(undefined)).toBe('Unknown');
    expect(readyStatus([{ type: 'ConfigurationsReady', status: 'True' }])).toBe('Unknown');
    expect(readyStatus([{ type: 'Ready', status: 'False' }])).toBe('False');
    expect(readyStatus([{ type: 'Ready', status: 'True' }])).toBe('True');
  });
});
