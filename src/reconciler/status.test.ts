// Table tests for holding back progress-only status writes, and for telling a status-only update.
import { describe, expect, it } from '@jest/globals';
import { onlyStatusChanged, progressHoldMs, readyStatus, type ProgressHoldInput } from './status.ts';

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

describe('onlyStatusChanged', () => {
  interface Stored {
    metadata: Record<string, unknown> & { labels: Record<string, string> };
    spec: { image: string };
    status: { observedGeneration: number };
  }
  const stored: Stored = {
    metadata: {
      name: 'hello',
      namespace: 'default',
      generation: 2,
      resourceVersion: '10',
      labels: { app: 'a' },
      managedFields: [{ manager: 'kubectl' }],
    },
    spec: { image: 'x' },
    status: { observedGeneration: 1 },
  };

  it.each<[string, (o: Stored) => void, boolean]>([
    ['only the status changed', (o) => (o.status.observedGeneration = 2), true],
    ['nothing changed', () => undefined, true],
    ['the spec changed', (o) => (o.spec.image = 'y'), false],
    ['the generation changed', (o) => (o.metadata.generation = 3), false],
    ['a label changed', (o) => (o.metadata.labels.app = 'b'), false],
    ['an annotation appeared', (o) => (o.metadata.annotations = { a: '1' }), false],
    ['deletion started', (o) => (o.metadata.deletionTimestamp = '2026-12-04T00:00:00Z'), false],
  ])('%s → %s', (_what, change, expected) => {
    const after = structuredClone(stored);
    // A write always moves the resourceVersion and may rewrite managedFields.
    after.metadata.resourceVersion = '11';
    after.metadata.managedFields = [{ manager: 'ebb' }];
    change(after);
    expect(onlyStatusChanged(stored, after)).toBe(expected);
  });
});
