// Table tests of traffic resolution: flattening to revisions, merging, grouping by tag, and the
// AllTrafficAssigned outcome Knative writes for each kind of unroutable target.
import { describe, expect, it } from '@jest/globals';
import type { TrafficTarget } from '../../apis/serving/v1/route-types.ts';
import {
  resolveTraffic,
  statusTraffic,
  type ConfigurationView,
  type ResolvedTarget,
  type RevisionView,
  type TrafficLookup,
} from './traffic.ts';

const configurations: ConfigurationView[] = [
  {
    name: 'cfg',
    ready: 'True',
    latestCreatedRevisionName: 'cfg-00003',
    latestReadyRevisionName: 'cfg-00002',
  },
  { name: 'waiting', ready: 'Unknown', latestCreatedRevisionName: 'waiting-00001' },
  { name: 'failed', ready: 'False', latestCreatedRevisionName: 'failed-00001', failedMessage: 'boom' },
  { name: 'dangling', ready: 'True', latestReadyRevisionName: 'gone-00001' },
];
const revisions: RevisionView[] = [
  { name: 'cfg-00001', configurationName: 'cfg', ready: 'True' },
  { name: 'cfg-00002', configurationName: 'cfg', ready: 'True' },
  { name: 'cfg-00003', configurationName: 'cfg', ready: 'Unknown' },
  { name: 'bad-00001', configurationName: 'cfg', ready: 'False', message: 'exit 1' },
  { name: 'orphan-00001', configurationName: 'deleted', ready: 'True' },
  { name: 'plain', ready: 'True' },
];
const lookup: TrafficLookup = {
  configuration: (name) => configurations.find((c) => c.name === name),
  revision: (name) => revisions.find((r) => r.name === name),
};

const route = (traffic: TrafficTarget[]) => ({ spec: { traffic } });
const latest = (percent: number, tag?: string): TrafficTarget => ({
  ...(tag !== undefined ? { tag } : {}),
  configurationName: 'cfg',
  latestRevision: true,
  percent,
});
const pinned = (revisionName: string, percent: number, tag?: string): TrafficTarget => ({
  ...(tag !== undefined ? { tag } : {}),
  revisionName,
  latestRevision: false,
  percent,
});
const target = (
  revisionName: string,
  percent: number,
  latestRevision: boolean,
  extra: { tag?: string; configurationName?: string } = { configurationName: 'cfg' },
): ResolvedTarget => ({ ...extra, revisionName, latestRevision, percent });

describe('resolveTraffic', () => {
  const resolved: [
    string,
    TrafficTarget[],
    {
      targets: ResolvedTarget[];
      groups: [string, ResolvedTarget[]][];
      byTag: [string, string][];
      revisions: string[];
      configurations: string[];
    },
  ][] = [
    [
      "a Service's default: all traffic to the configuration's latest ready revision",
      [latest(100)],
      {
        targets: [target('cfg-00002', 100, true)],
        groups: [['', [target('cfg-00002', 100, true)]]],
        byTag: [],
        revisions: ['cfg-00002'],
        configurations: ['cfg'],
      },
    ],
    [
      'a pinned and a latest target, each tagged',
      [pinned('cfg-00001', 50, 'current'), latest(50, 'candidate')],
      {
        targets: [
          target('cfg-00001', 50, false, { tag: 'current', configurationName: 'cfg' }),
          target('cfg-00002', 50, true, { tag: 'candidate', configurationName: 'cfg' }),
        ],
        groups: [
          [
            '',
            [
              target('cfg-00001', 50, false, { tag: 'current', configurationName: 'cfg' }),
              target('cfg-00002', 50, true, { tag: 'candidate', configurationName: 'cfg' }),
            ],
          ],
          ['candidate', [target('cfg-00002', 100, true, { tag: 'candidate', configurationName: 'cfg' })]],
          ['current', [target('cfg-00001', 100, false, { tag: 'current', configurationName: 'cfg' })]],
        ],
        byTag: [
          ['candidate', 'cfg-00002'],
          ['current', 'cfg-00001'],
        ],
        revisions: ['cfg-00001', 'cfg-00002'],
        configurations: ['cfg'],
      },
    ],
    [
      'same revision and tag merged; a 0% tag still gets its host',
      [pinned('cfg-00001', 30), latest(50), pinned('cfg-00001', 20), pinned('cfg-00001', 0, 'old')],
      {
        targets: [
          target('cfg-00001', 50, false),
          target('cfg-00002', 50, true),
          target('cfg-00001', 0, false, { tag: 'old', configurationName: 'cfg' }),
        ],
        groups: [
          ['', [target('cfg-00001', 50, false), target('cfg-00002', 50, true)]],
          ['old', [target('cfg-00001', 100, false, { tag: 'old', configurationName: 'cfg' })]],
        ],
        byTag: [['old', 'cfg-00001']],
        revisions: ['cfg-00001', 'cfg-00002'],
        configurations: ['cfg'],
      },
    ],
    [
      'a pinned and a latest target on one revision: two status entries, one split',
      [pinned('cfg-00002', 40), latest(60)],
      {
        targets: [target('cfg-00002', 40, false), target('cfg-00002', 60, true)],
        groups: [['', [target('cfg-00002', 100, false)]]],
        byTag: [],
        revisions: ['cfg-00002'],
        configurations: ['cfg'],
      },
    ],
    [
      'a revision without a configuration',
      [pinned('plain', 100)],
      {
        targets: [target('plain', 100, false, {})],
        groups: [['', [target('plain', 100, false, {})]]],
        byTag: [],
        revisions: ['plain'],
        configurations: [],
      },
    ],
    ['no traffic at all', [], { targets: [], groups: [], byTag: [], revisions: [], configurations: [] }],
  ];

  it.each(resolved)('resolves %s', (_name, traffic, expected) => {
    expect(resolveTraffic(route(traffic), lookup)).toStrictEqual({
      ok: true,
      targets: expected.targets,
      groups: new Map(expected.groups),
      byTag: new Map(expected.byTag),
      revisions: expected.revisions,
      configurations: expected.configurations,
    });
  });

  const failures: [string, TrafficTarget[], 'False' | 'Unknown', string, string][] = [
    [
      'a missing revision',
      [pinned('nope', 100)],
      'False',
      'RevisionMissing',
      'Revision "nope" referenced in traffic not found.',
    ],
    [
      'a missing configuration',
      [{ configurationName: 'nope', latestRevision: true, percent: 100 }],
      'False',
      'ConfigurationMissing',
      'Configuration "nope" referenced in traffic not found.',
    ],
    [
      'a configuration with no ready revision yet',
      [{ configurationName: 'waiting', latestRevision: true, percent: 100 }],
      'Unknown',
      'RevisionMissing',
      'Configuration "waiting" is waiting for a Revision to become ready.',
    ],
    [
      'a configuration whose revision failed',
      [{ configurationName: 'failed', latestRevision: true, percent: 100 }],
      'False',
      'RevisionMissing',
      'Configuration "failed" does not have any ready Revision.',
    ],
    [
      'a revision not ready yet',
      [pinned('cfg-00003', 100)],
      'Unknown',
      'RevisionMissing',
      'Revision "cfg-00003" is not yet ready.',
    ],
    [
      'a failed revision',
      [pinned('bad-00001', 100)],
      'False',
      'RevisionMissing',
      'Revision "bad-00001" failed to become ready.',
    ],
    [
      'a configuration whose latest ready revision is gone',
      [{ configurationName: 'dangling', latestRevision: true, percent: 100 }],
      'False',
      'RevisionMissing',
      'Revision "gone-00001" referenced in traffic not found.',
    ],
    [
      'a pinned revision whose configuration is gone',
      [pinned('orphan-00001', 100)],
      'False',
      'ConfigurationMissing',
      'Configuration "deleted" referenced in traffic not found.',
    ],
    [
      'two waits: the first is reported',
      [{ configurationName: 'waiting', latestRevision: true, percent: 50 }, pinned('cfg-00003', 50)],
      'Unknown',
      'RevisionMissing',
      'Configuration "waiting" is waiting for a Revision to become ready.',
    ],
    [
      'a failure after a wait: the failure wins',
      [{ configurationName: 'waiting', latestRevision: true, percent: 50 }, pinned('nope', 50)],
      'False',
      'RevisionMissing',
      'Revision "nope" referenced in traffic not found.',
    ],
    [
      'two failures: the last is reported',
      [pinned('nope', 50), { configurationName: 'failed', latestRevision: true, percent: 50 }],
      'False',
      'RevisionMissing',
      'Configuration "failed" does not have any ready Revision.',
    ],
    [
      'a wait after a failure: the failure stays',
      [pinned('bad-00001', 50), pinned('cfg-00003', 50)],
      'False',
      'RevisionMissing',
      'Revision "bad-00001" failed to become ready.',
    ],
  ];

  it.each(failures)('reports %s', (_name, traffic, status, reason, message) => {
    expect(resolveTraffic(route(traffic), lookup)).toMatchObject({ ok: false, status, reason, message });
  });

  it('still names what it found when a target fails', () => {
    const result = resolveTraffic(
      route([{ configurationName: 'waiting', latestRevision: true, percent: 50 }, pinned('cfg-00003', 50)]),
      lookup,
    );
    // cfg-00003 is not ready, so (as in Knative) its configuration is never looked up.
    expect(result).toMatchObject({ revisions: ['cfg-00003'], configurations: ['waiting'] });
  });
});

describe('statusTraffic', () => {
  const url = (tag: string): string => `http://${tag}-r.ns.example.com`;
  const cases: [string, TrafficTarget[], TrafficTarget[]][] = [
    [
      'untagged entries carry no tag and no url',
      [latest(100)],
      [{ revisionName: 'cfg-00002', latestRevision: true, percent: 100 }],
    ],
    [
      'tagged entries get their URL, 0% ones too',
      [pinned('cfg-00001', 100, 'current'), latest(0, 'candidate')],
      [
        {
          tag: 'current',
          revisionName: 'cfg-00001',
          latestRevision: false,
          percent: 100,
          url: url('current'),
        },
        {
          tag: 'candidate',
          revisionName: 'cfg-00002',
          latestRevision: true,
          percent: 0,
          url: url('candidate'),
        },
      ],
    ],
  ];

  it.each(cases)('%s', (_name, traffic, expected) => {
    const resolved = resolveTraffic(route(traffic), lookup);
    if (!resolved.ok) throw new Error(resolved.message);
    expect(statusTraffic(resolved, url)).toStrictEqual(expected);
  });
});
