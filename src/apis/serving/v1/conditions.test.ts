// Table tests for the living condition set: how marking a dependent moves Ready, which reason Ready
// carries, and when lastTransitionTime moves. Expectations follow knative.dev/pkg apis/condition_set.go.
import { describe, expect, it } from '@jest/globals';
import type { Condition, ConditionStatus } from '../../meta/v1.ts';
import { ConditionSet, READY } from './conditions.ts';

const NOW = new Date('2025-01-10T00:00:00Z');
const T_NOW = '2025-01-10T00:00:00Z';
const T_OLD = '2025-01-01T00:00:00Z';
const T_OLDER = '2024-12-01T00:00:00Z';

/** A stored condition; empty reason or message are left out, as the API server would. */
function cond(
  type: string,
  status: ConditionStatus,
  at: string,
  reason = '',
  message = '',
  severity?: 'Info',
): Condition {
  const c: Condition = { type, status, lastTransitionTime: at };
  if (severity !== undefined) c.severity = severity;
  if (reason !== '') c.reason = reason;
  if (message !== '') c.message = message;
  return c;
}

type Op =
  | ['initialize']
  | ['markTrue', string]
  | ['markUnknown', string, string, string]
  | ['markFalse', string, string, string];

interface Case {
  dependents?: string[];
  start?: Condition[];
  ops: Op[];
  want: Condition[];
}

const AB = ['A', 'B'];

const cases: [string, Case][] = [
  [
    'initialize on an empty status: Ready and every dependent Unknown, sorted by type',
    {
      dependents: ['ZDep', 'ADep'],
      ops: [['initialize']],
      want: [cond('ADep', 'Unknown', T_NOW), cond(READY, 'Unknown', T_NOW), cond('ZDep', 'Unknown', T_NOW)],
    },
  ],
  [
    'initialize keeps conditions that are already there, with their transition times',
    {
      start: [cond('A', 'False', T_OLD, 'R', 'M'), cond(READY, 'False', T_OLD, 'R', 'M')],
      ops: [['initialize']],
      want: [
        cond('A', 'False', T_OLD, 'R', 'M'),
        cond('B', 'Unknown', T_NOW),
        cond(READY, 'False', T_OLD, 'R', 'M'),
      ],
    },
  ],
  [
    'initialize with Ready True fills missing dependents with True (Ready True implies them)',
    {
      start: [cond('A', 'True', T_OLD), cond(READY, 'True', T_OLD)],
      ops: [['initialize']],
      want: [cond('A', 'True', T_OLD), cond('B', 'True', T_NOW), cond(READY, 'True', T_OLD)],
    },
  ],
  [
    'all dependents True make Ready True',
    {
      ops: [['initialize'], ['markTrue', 'A'], ['markTrue', 'B']],
      want: [cond('A', 'True', T_NOW), cond('B', 'True', T_NOW), cond(READY, 'True', T_NOW)],
    },
  ],
  [
    'one dependent True and the other Unknown keep Ready Unknown with the Unknown one’s reason',
    {
      ops: [['initialize'], ['markUnknown', 'B', 'Waiting', 'for B'], ['markTrue', 'A']],
      want: [
        cond('A', 'True', T_NOW),
        cond('B', 'Unknown', T_NOW, 'Waiting', 'for B'),
        cond(READY, 'Unknown', T_NOW, 'Waiting', 'for B'),
      ],
    },
  ],
  [
    'a missing dependent keeps Ready Unknown without a reason',
    {
      ops: [['markTrue', 'A']],
      want: [cond('A', 'True', T_NOW), cond(READY, 'Unknown', T_NOW)],
    },
  ],
  [
    'a False dependent makes Ready False with its reason and message',
    {
      ops: [['initialize'], ['markTrue', 'A'], ['markFalse', 'B', 'Broken', 'B broke']],
      want: [
        cond('A', 'True', T_NOW),
        cond('B', 'False', T_NOW, 'Broken', 'B broke'),
        cond(READY, 'False', T_NOW, 'Broken', 'B broke'),
      ],
    },
  ],
  [
    'a False dependent outranks a later True one',
    {
      ops: [['initialize'], ['markFalse', 'A', 'Broken', 'A broke'], ['markTrue', 'B']],
      want: [
        cond('A', 'False', T_NOW, 'Broken', 'A broke'),
        cond('B', 'True', T_NOW),
        cond(READY, 'False', T_NOW, 'Broken', 'A broke'),
      ],
    },
  ],
  [
    'a False dependent outranks a later Unknown one, and Ready keeps its transition time',
    {
      start: [
        cond('A', 'False', T_OLD, 'Broken', 'A broke'),
        cond('B', 'True', T_OLD),
        cond(READY, 'False', T_OLD, 'Broken', 'A broke'),
      ],
      ops: [['markUnknown', 'B', 'Waiting', 'for B']],
      want: [
        cond('A', 'False', T_OLD, 'Broken', 'A broke'),
        cond('B', 'Unknown', T_NOW, 'Waiting', 'for B'),
        cond(READY, 'False', T_OLD, 'Broken', 'A broke'),
      ],
    },
  ],
  [
    'marking a dependent Unknown gives Ready that dependent’s reason and message',
    {
      start: [
        cond('A', 'Unknown', T_OLD, 'OutOfDate', 'A is catching up'),
        cond('B', 'True', T_OLD),
        cond(READY, 'Unknown', T_OLD, 'OutOfDate', 'A is catching up'),
      ],
      ops: [['markUnknown', 'B', 'OutOfDate', 'B is catching up']],
      want: [
        cond('A', 'Unknown', T_OLD, 'OutOfDate', 'A is catching up'),
        cond('B', 'Unknown', T_NOW, 'OutOfDate', 'B is catching up'),
        cond(READY, 'Unknown', T_NOW, 'OutOfDate', 'B is catching up'),
      ],
    },
  ],
  [
    'marking a non-dependent Unknown leaves Ready alone',
    {
      start: [
        cond('A', 'Unknown', T_OLD, 'RA', 'from A'),
        cond('B', 'Unknown', T_OLD, 'RB', 'from B'),
        cond(READY, 'Unknown', T_OLD, 'RB', 'from B'),
      ],
      ops: [['markUnknown', 'Active', 'Queued', 'waiting']],
      want: [
        cond('A', 'Unknown', T_OLD, 'RA', 'from A'),
        cond('Active', 'Unknown', T_NOW, 'Queued', 'waiting', 'Info'),
        cond('B', 'Unknown', T_OLD, 'RB', 'from B'),
        cond(READY, 'Unknown', T_OLD, 'RB', 'from B'),
      ],
    },
  ],
  [
    'recomputing Ready prefers the most recently changed unhappy dependent',
    {
      start: [
        cond('A', 'Unknown', T_OLDER, 'RA', 'from A'),
        cond('B', 'Unknown', T_OLD, 'RB', 'from B'),
        cond(READY, 'Unknown', T_OLD, 'RB', 'from B'),
      ],
      ops: [['markTrue', 'Active']],
      want: [
        cond('A', 'Unknown', T_OLDER, 'RA', 'from A'),
        cond('Active', 'True', T_NOW, '', '', 'Info'),
        cond('B', 'Unknown', T_OLD, 'RB', 'from B'),
        cond(READY, 'Unknown', T_OLD, 'RB', 'from B'),
      ],
    },
  ],
  [
    'marking a non-dependent False touches only that condition, with severity Info',
    {
      start: [cond('A', 'True', T_OLD), cond('B', 'True', T_OLD), cond(READY, 'True', T_OLD)],
      ops: [['markFalse', 'Active', 'NoTraffic', 'idle']],
      want: [
        cond('A', 'True', T_OLD),
        cond('Active', 'False', T_NOW, 'NoTraffic', 'idle', 'Info'),
        cond('B', 'True', T_OLD),
        cond(READY, 'True', T_OLD),
      ],
    },
  ],
  [
    'marking a non-dependent True recomputes Ready from the dependents',
    {
      start: [cond('A', 'True', T_OLD), cond('B', 'True', T_OLD), cond(READY, 'Unknown', T_OLD)],
      ops: [['markTrue', 'Active']],
      want: [
        cond('A', 'True', T_OLD),
        cond('Active', 'True', T_NOW, '', '', 'Info'),
        cond('B', 'True', T_OLD),
        cond(READY, 'True', T_NOW),
      ],
    },
  ],
  [
    'a mark that changes nothing keeps every transition time',
    {
      start: [
        cond('A', 'True', T_OLD),
        cond('B', 'False', T_OLD, 'R', 'M'),
        cond(READY, 'False', T_OLD, 'R', 'M'),
      ],
      ops: [['initialize'], ['markTrue', 'A'], ['markFalse', 'B', 'R', 'M']],
      want: [
        cond('A', 'True', T_OLD),
        cond('B', 'False', T_OLD, 'R', 'M'),
        cond(READY, 'False', T_OLD, 'R', 'M'),
      ],
    },
  ],
  [
    'a new message alone is a transition',
    {
      start: [
        cond('A', 'True', T_OLD),
        cond('B', 'False', T_OLD, 'R', 'M'),
        cond(READY, 'False', T_OLD, 'R', 'M'),
      ],
      ops: [['markFalse', 'B', 'R', 'M2']],
      want: [
        cond('A', 'True', T_OLD),
        cond('B', 'False', T_NOW, 'R', 'M2'),
        cond(READY, 'False', T_NOW, 'R', 'M2'),
      ],
    },
  ],
  [
    'a recovered dependent makes Ready True again',
    {
      start: [
        cond('A', 'True', T_OLD),
        cond('B', 'False', T_OLD, 'R', 'M'),
        cond(READY, 'False', T_OLD, 'R', 'M'),
      ],
      ops: [['markTrue', 'B']],
      want: [cond('A', 'True', T_OLD), cond('B', 'True', T_NOW), cond(READY, 'True', T_NOW)],
    },
  ],
  [
    'with no dependents Ready is marked directly',
    {
      dependents: [],
      ops: [['initialize'], ['markUnknown', READY, '', ''], ['markFalse', READY, 'RevisionFailed', 'boom']],
      want: [cond(READY, 'False', T_NOW, 'RevisionFailed', 'boom')],
    },
  ],
  [
    'with no dependents markTrue(Ready) sets Ready True without a reason',
    {
      dependents: [],
      start: [cond(READY, 'Unknown', T_OLD)],
      ops: [['markTrue', READY]],
      want: [cond(READY, 'True', T_NOW)],
    },
  ],
];

function apply(dependents: string[], start: Condition[] | undefined, ops: Op[]) {
  const m = new ConditionSet(dependents).manage(start, NOW);
  for (const op of ops) {
    switch (op[0]) {
      case 'initialize':
        m.initialize();
        break;
      case 'markTrue':
        m.markTrue(op[1]);
        break;
      case 'markUnknown':
        m.markUnknown(op[1], op[2], op[3]);
        break;
      case 'markFalse':
        m.markFalse(op[1], op[2], op[3]);
        break;
    }
  }
  return m;
}

describe('ConditionManager', () => {
  it.each(cases)('%s', (_name, c) => {
    expect(apply(c.dependents ?? AB, c.start, c.ops).conditions()).toEqual(c.want);
  });

  it('stamps transitions at whole seconds, as Kubernetes serialises times', () => {
    const m = new ConditionSet(AB).manage(undefined, new Date('2025-01-10T00:00:00.987Z'));
    m.initialize();
    expect(m.get(READY)?.lastTransitionTime).toBe(T_NOW);
  });

  it('does not change the conditions it was given', () => {
    const start = [cond('A', 'True', T_OLD), cond(READY, 'True', T_OLD)];
    const copy = structuredClone(start);
    apply(AB, start, [['initialize'], ['markFalse', 'A', 'R', 'M']]);
    expect(start).toEqual(copy);
  });

  it.each<[string, Condition[], boolean, ConditionStatus]>([
    ['no conditions', [], false, 'Unknown'],
    ['Ready Unknown', [cond(READY, 'Unknown', T_OLD)], false, 'Unknown'],
    ['Ready False', [cond(READY, 'False', T_OLD)], false, 'False'],
    ['Ready True', [cond(READY, 'True', T_OLD)], true, 'True'],
  ])('isReady and status with %s', (_name, start, ready, status) => {
    const m = new ConditionSet(AB).manage(start, NOW);
    expect(m.isReady()).toBe(ready);
    expect(m.status(READY)).toBe(status);
  });

  it('reports a missing condition as Unknown and get() as undefined', () => {
    const m = new ConditionSet(AB).manage(undefined, NOW);
    expect(m.status('A')).toBe('Unknown');
    expect(m.get('A')).toBeUndefined();
  });
});
