// Table tests for the revision GC decision: which revisions of one configuration are deleted, and why.
import { describe, expect, it } from '@jest/globals';
import { DISABLED, defaultGCConfig, type GCConfig } from '../../apis/config/gc.ts';
import { ANNOTATIONS, LABELS } from '../../apis/serving/register.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import { revisionsToCollect, type GCInput } from './collect.ts';

const NOW = new Date('2025-01-10T00:00:00Z');
const HOUR = 3_600_000;

/** A Kubernetes timestamp `ms` before NOW (whole seconds, like the API server writes). */
function before(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface RevOptions {
  /** Hours since creation; undefined leaves creationTimestamp out. */
  created?: number;
  /** Hours since routingStateModified; undefined leaves the annotation out. */
  lastActive?: number;
  /** Raw routingStateModified value, for malformed input. */
  modified?: string;
  /** routingState label; null leaves the label out. */
  state?: string | null;
  noGC?: string;
}

function rev(name: string, o: RevOptions): Pick<Revision, 'metadata'> {
  const labels: Record<string, string> = { [LABELS.configuration]: 'cfg' };
  const state = o.state === undefined ? 'reserve' : o.state;
  if (state !== null) labels[LABELS.routingState] = state;
  const annotations: Record<string, string> = {};
  if (o.lastActive !== undefined) annotations[ANNOTATIONS.routingStateModified] = before(o.lastActive * HOUR);
  if (o.modified !== undefined) annotations[ANNOTATIONS.routingStateModified] = o.modified;
  if (o.noGC !== undefined) annotations[ANNOTATIONS.noGC] = o.noGC;
  return {
    metadata: {
      name,
      namespace: 'default',
      labels,
      annotations,
      ...(o.created === undefined ? {} : { creationTimestamp: before(o.created * HOUR) }),
    },
  };
}

/** `count` revisions named <prefix>-<i>, made by `options(i)`. */
function many(
  prefix: string,
  count: number,
  options: (i: number) => RevOptions,
): Pick<Revision, 'metadata'>[] {
  return Array.from({ length: count }, (_, i) => rev(`${prefix}-${String(i).padStart(4, '0')}`, options(i)));
}

const stale = (created: number, lastActive: number) =>
  `stale: created ${created}h ago, last active ${lastActive}h ago`;
const overMax = (max: number, lastActive: string) =>
  `over max-non-active-revisions=${max}, last active ${lastActive} ago`;

interface Case {
  revisions: Pick<Revision, 'metadata'>[];
  gc?: Partial<GCConfig>;
  configuration?: GCInput['configuration'];
  want: [name: string, reason: string][];
}

const min0 = { minNonActiveRevisions: 0 };

const cases: [string, Case][] = [
  // Defaults: 48h since creation, 15h since last active, keep 20, at most 1000.
  [
    'defaults: with 21 stale revisions the least recently active goes',
    {
      revisions: many('r', 21, (i) => ({ created: 100, lastActive: 16 + i })),
      want: [['r-0020', stale(100, 36)]],
    },
  ],
  [
    'defaults: 20 stale revisions are the minimum kept',
    { revisions: many('r', 20, (i) => ({ created: 100, lastActive: 16 + i })), want: [] },
  ],
  [
    'defaults: beyond 1000 the oldest go even when fresh',
    {
      revisions: many('r', 1002, (i) => ({ created: (i + 1) / 60 })),
      want: [
        ['r-1001', overMax(1000, '16h42m')],
        ['r-1000', overMax(1000, '16h41m')],
      ],
    },
  ],
  [
    'created within retain-since-create-time is kept',
    { gc: min0, revisions: [rev('a', { created: 47, lastActive: 16 })], want: [] },
  ],
  [
    'active within retain-since-last-active-time is kept',
    { gc: min0, revisions: [rev('a', { created: 49, lastActive: 14 })], want: [] },
  ],
  [
    'exactly at both limits is stale',
    { gc: min0, revisions: [rev('a', { created: 48, lastActive: 15 })], want: [['a', stale(48, 15)]] },
  ],
  [
    'without routingStateModified, last active is the creation time',
    { gc: min0, revisions: [rev('a', { created: 49 })], want: [['a', stale(49, 49)]] },
  ],
  [
    'a malformed routingStateModified falls back to the creation time',
    { gc: min0, revisions: [rev('a', { created: 49, modified: 'yesterday' })], want: [['a', stale(49, 49)]] },
  ],
  [
    'retain-since-create-time disabled: only last active counts',
    {
      gc: { ...min0, retainSinceCreateTimeMs: DISABLED },
      revisions: [rev('a', { created: 20, lastActive: 16 }), rev('b', { created: 20, lastActive: 14 })],
      want: [['a', stale(20, 16)]],
    },
  ],
  [
    'retain-since-last-active-time disabled: only creation counts',
    {
      gc: { ...min0, retainSinceLastActiveTimeMs: DISABLED },
      revisions: [rev('a', { created: 49, lastActive: 1 }), rev('b', { created: 47, lastActive: 47 })],
      want: [['a', stale(49, 1)]],
    },
  ],
  [
    'both retention times disabled: nothing is stale, max still applies',
    {
      gc: {
        ...min0,
        maxNonActiveRevisions: 1,
        retainSinceCreateTimeMs: DISABLED,
        retainSinceLastActiveTimeMs: DISABLED,
      },
      revisions: [rev('a', { created: 10 }), rev('b', { created: 1000 }), rev('c', { created: 30 })],
      want: [
        ['b', overMax(1, '1000h')],
        ['c', overMax(1, '30h')],
      ],
    },
  ],
  [
    'every limit disabled: nothing is collected',
    {
      gc: {
        ...min0,
        maxNonActiveRevisions: DISABLED,
        retainSinceCreateTimeMs: DISABLED,
        retainSinceLastActiveTimeMs: DISABLED,
      },
      revisions: [rev('a', { created: 1000 }), rev('b', { created: 2000 })],
      want: [],
    },
  ],
  [
    'max-non-active-revisions disabled: any number of fresh revisions stay',
    {
      gc: { ...min0, maxNonActiveRevisions: DISABLED },
      revisions: many('r', 5, (i) => ({ created: 47, lastActive: i })),
      want: [],
    },
  ],
  [
    'min-non-active-revisions: only the oldest stale revisions beyond it go',
    {
      gc: { minNonActiveRevisions: 2 },
      revisions: many('r', 5, (i) => ({ created: 100, lastActive: 20 + 10 * i })),
      want: [
        ['r-0004', stale(100, 60)],
        ['r-0003', stale(100, 50)],
        ['r-0002', stale(100, 40)],
      ],
    },
  ],
  [
    'max applies to the revisions kept after the stale ones went',
    {
      gc: { minNonActiveRevisions: 1, maxNonActiveRevisions: 2 },
      revisions: [
        rev('a', { created: 100, lastActive: 50 }),
        rev('b', { created: 10 }),
        rev('c', { created: 20 }),
        rev('d', { created: 30 }),
        rev('e', { created: 40 }),
      ],
      want: [
        ['a', stale(100, 50)],
        ['e', overMax(2, '40h')],
        ['d', overMax(2, '30h')],
      ],
    },
  ],
  [
    'once the stale pass reaches the minimum, max has nothing left to do',
    {
      gc: { minNonActiveRevisions: 3, maxNonActiveRevisions: 3 },
      revisions: many('r', 5, (i) => ({ created: 100, lastActive: 20 + i })),
      want: [
        ['r-0004', stale(100, 24)],
        ['r-0003', stale(100, 23)],
      ],
    },
  ],
  [
    'the latest ready revision is kept',
    {
      gc: min0,
      configuration: { latestReadyRevisionName: 'a', latestCreatedRevisionName: 'a' },
      revisions: [rev('a', { created: 100 }), rev('b', { created: 100 })],
      want: [['b', stale(100, 100)]],
    },
  ],
  [
    'the latest created revision is kept',
    {
      gc: min0,
      configuration: { latestReadyRevisionName: 'a', latestCreatedRevisionName: 'b' },
      revisions: [rev('a', { created: 100 }), rev('b', { created: 100 }), rev('c', { created: 100 })],
      want: [['c', stale(100, 100)]],
    },
  ],
  [
    'no-gc "true" pins a revision, in any case; other values do not',
    {
      gc: min0,
      revisions: [
        rev('a', { created: 100, noGC: 'true' }),
        rev('b', { created: 100, noGC: 'TRUE' }),
        rev('c', { created: 100, noGC: 'false' }),
        rev('d', { created: 100, noGC: '' }),
      ],
      want: [
        ['c', stale(100, 100)],
        ['d', stale(100, 100)],
      ],
    },
  ],
  [
    'only reserve revisions are collected: active, pending and unlabelled ones stay',
    {
      gc: min0,
      revisions: [
        rev('active', { created: 100, state: 'active' }),
        rev('pending', { created: 100, state: 'pending' }),
        rev('empty', { created: 100, state: '' }),
        rev('unlabelled', { created: 100, state: null }),
        rev('reserve', { created: 100 }),
      ],
      want: [['reserve', stale(100, 100)]],
    },
  ],
  [
    'kept revisions do not count toward min-non-active-revisions',
    {
      gc: { minNonActiveRevisions: 1 },
      configuration: { latestReadyRevisionName: 'ready' },
      revisions: [
        rev('ready', { created: 100, lastActive: 90 }),
        rev('pinned', { created: 100, lastActive: 80, noGC: 'true' }),
        rev('routed', { created: 100, lastActive: 70, state: 'active' }),
        rev('c', { created: 100, lastActive: 60 }),
        rev('d', { created: 100, lastActive: 50 }),
      ],
      want: [['c', stale(100, 60)]],
    },
  ],
  [
    'a revision without a creation time is kept',
    { gc: min0, revisions: [rev('a', { lastActive: 100 })], want: [] },
  ],
  [
    'ordered by last active time, not creation time',
    {
      gc: { minNonActiveRevisions: 1 },
      revisions: [rev('x', { created: 100, lastActive: 20 }), rev('y', { created: 60 })],
      want: [['y', stale(60, 60)]],
    },
  ],
  [
    'equal last active times are ordered by creation time, then name',
    {
      gc: min0,
      revisions: [
        rev('q', { created: 90, lastActive: 20 }),
        rev('p', { created: 100, lastActive: 20 }),
        rev('o', { created: 90, lastActive: 20 }),
      ],
      want: [
        ['p', stale(100, 20)],
        ['o', stale(90, 20)],
        ['q', stale(90, 20)],
      ],
    },
  ],
  [
    'ages below an hour or with minutes read naturally',
    {
      gc: {
        ...min0,
        maxNonActiveRevisions: 0,
        retainSinceCreateTimeMs: DISABLED,
        retainSinceLastActiveTimeMs: DISABLED,
      },
      revisions: [
        rev('a', { created: 49.5, lastActive: 15.25 }),
        rev('b', { created: 0.5 }),
        rev('c', { created: 0 }),
      ],
      want: [
        ['a', overMax(0, '15h15m')],
        ['b', overMax(0, '30m')],
        ['c', overMax(0, '0s')],
      ],
    },
  ],
];

describe('revisionsToCollect', () => {
  it.each(cases)('%s', (_name, c) => {
    const got = revisionsToCollect({
      configuration: c.configuration ?? {},
      revisions: c.revisions,
      gc: { ...defaultGCConfig(), ...c.gc },
      now: NOW,
    });
    expect(got.map((r) => [r.name, r.reason])).toEqual(c.want);
  });

  it('formats stale ages with minutes', () => {
    const got = revisionsToCollect({
      configuration: {},
      revisions: [rev('a', { created: 49 + 30 / 60, lastActive: 16 + 5 / 60 })],
      gc: { ...defaultGCConfig(), ...min0 },
      now: NOW,
    });
    expect(got).toEqual([{ name: 'a', reason: 'stale: created 49h30m ago, last active 16h5m ago' }]);
  });

  it('does not depend on the input order', () => {
    const revisions = many('r', 8, (i) => ({ created: 100, lastActive: 16 + ((i * 5) % 8) }));
    const input = { configuration: {}, gc: { ...defaultGCConfig(), minNonActiveRevisions: 3 }, now: NOW };
    const forward = revisionsToCollect({ ...input, revisions });
    expect(forward).toHaveLength(5);
    expect(revisionsToCollect({ ...input, revisions: [...revisions].reverse() })).toEqual(forward);
  });
});
