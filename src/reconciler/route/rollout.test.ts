// Table tests of gradual rollout: starting, stepping (Knative's 1 -> 26 -> 51 -> 76 -> 100),
// interruption by a newer revision, share changes, the stored JSON, and the traffic it dictates.
import { describe, expect, it } from '@jest/globals';
import {
  buildRollout,
  parseRollout,
  serializeRollout,
  stepRollout,
  trafficFromRollout,
  type ConfigurationRollout,
  type Rollout,
  type RolloutParams,
  type RolloutStep,
} from './rollout.ts';
import type { ResolvedTarget, ResolvedTraffic } from './traffic.ts';

const T = 1_700_000_000_000;
const NONE: RolloutParams = { starttime: 0, nextStepTime: 0, stepDuration: 0, stepSize: 0 };

const cfg = (
  configurationName: string,
  percent: number,
  revisions: [string, number][],
  stepParams: Partial<RolloutParams> = {},
  tag = '',
): ConfigurationRollout => ({
  configurationName,
  tag,
  percent,
  revisions: revisions.map(([revisionName, p]) => ({ revisionName, percent: p })),
  stepParams: { ...NONE, ...stepParams },
});
const rollout = (...configurations: ConfigurationRollout[]): Rollout => ({ configurations });

/** Parameters for 100% over 5s with readiness seen at once: 4 steps of 25% a second apart. */
const fourSteps = (start: number, next: number): Partial<RolloutParams> => ({
  starttime: start,
  nextStepTime: next,
  stepDuration: 1000,
  stepSize: 25,
});

describe('stepRollout', () => {
  const cases: [string, Rollout | undefined, Rollout, number, number, RolloutStep][] = [
    [
      'no previous state: the desired state as is',
      undefined,
      rollout(cfg('c', 100, [['r2', 100]])),
      60,
      T,
      { rollout: rollout(cfg('c', 100, [['r2', 100]])), inProgress: false },
    ],
    [
      'rollout turned off: straight to the new revision',
      rollout(cfg('c', 100, [['r1', 100]])),
      rollout(cfg('c', 100, [['r2', 100]])),
      0,
      T,
      { rollout: rollout(cfg('c', 100, [['r2', 100]])), inProgress: false },
    ],
    [
      'a new revision starts at 1%, with steps planned at once',
      rollout(cfg('c', 100, [['r1', 100]])),
      rollout(cfg('c', 100, [['r2', 100]])),
      5,
      T,
      {
        rollout: rollout(
          cfg(
            'c',
            100,
            [
              ['r1', 99],
              ['r2', 1],
            ],
            fourSteps(T, T + 1000),
          ),
        ),
        nextStepAt: T + 1000,
        inProgress: true,
      },
    ],
    [
      'a step not yet due changes nothing',
      rollout(
        cfg(
          'c',
          100,
          [
            ['r1', 99],
            ['r2', 1],
          ],
          fourSteps(T, T + 1000),
        ),
      ),
      rollout(cfg('c', 100, [['r2', 100]])),
      5,
      T + 999,
      {
        rollout: rollout(
          cfg(
            'c',
            100,
            [
              ['r1', 99],
              ['r2', 1],
            ],
            fourSteps(T, T + 1000),
          ),
        ),
        nextStepAt: T + 1000,
        inProgress: true,
      },
    ],
    [
      "state stored before readiness was seen: steps sized by Knative's ObserveReady",
      // 10s to see the first 1%: 40s left of 50 gives 4 steps of 25% every 10s.
      rollout(
        cfg(
          'c',
          100,
          [
            ['r1', 99],
            ['r2', 1],
          ],
          { starttime: T },
        ),
      ),
      rollout(cfg('c', 100, [['r2', 100]])),
      50,
      T + 10_000,
      {
        rollout: rollout(
          cfg(
            'c',
            100,
            [
              ['r1', 99],
              ['r2', 1],
            ],
            {
              starttime: T,
              nextStepTime: T + 20_000,
              stepDuration: 10_000,
              stepSize: 25,
            },
          ),
        ),
        nextStepAt: T + 20_000,
        inProgress: true,
      },
    ],
    [
      'a long duration moves 1% a second',
      rollout(cfg('c', 100, [['r1', 100]])),
      rollout(cfg('c', 100, [['r2', 100]])),
      100,
      T,
      {
        rollout: rollout(
          cfg(
            'c',
            100,
            [
              ['r1', 99],
              ['r2', 1],
            ],
            {
              starttime: T,
              nextStepTime: T + 1000,
              stepDuration: 1000,
              stepSize: 1,
            },
          ),
        ),
        nextStepAt: T + 1000,
        inProgress: true,
      },
    ],
    [
      'a configuration holding 1% skips the rollout',
      rollout(cfg('c', 1, [['r1', 1]])),
      rollout(cfg('c', 1, [['r2', 1]])),
      60,
      T,
      { rollout: rollout(cfg('c', 1, [['r2', 1]])), inProgress: false },
    ],
    [
      'a share cut mid-rollout comes out of the oldest revision',
      rollout(
        cfg(
          'c',
          100,
          [
            ['r1', 60],
            ['r2', 40],
          ],
          { starttime: T, nextStepTime: T + 5000, stepDuration: 5000, stepSize: 20 },
        ),
      ),
      rollout(cfg('c', 50, [['r2', 50]])),
      60,
      T + 1000,
      {
        rollout: rollout(
          cfg(
            'c',
            50,
            [
              ['r1', 10],
              ['r2', 40],
            ],
            { starttime: T, nextStepTime: T + 5000, stepDuration: 5000, stepSize: 20 },
          ),
        ),
        nextStepAt: T + 5000,
        inProgress: true,
      },
    ],
    [
      'a share raised mid-rollout goes to the newest revision',
      rollout(
        cfg(
          'c',
          50,
          [
            ['r1', 30],
            ['r2', 20],
          ],
          { starttime: T, nextStepTime: T + 5000, stepDuration: 5000, stepSize: 10 },
        ),
      ),
      rollout(cfg('c', 80, [['r2', 80]])),
      60,
      T + 1000,
      {
        rollout: rollout(
          cfg(
            'c',
            80,
            [
              ['r1', 30],
              ['r2', 50],
            ],
            { starttime: T, nextStepTime: T + 5000, stepDuration: 5000, stepSize: 10 },
          ),
        ),
        nextStepAt: T + 5000,
        inProgress: true,
      },
    ],
    [
      'configurations and tags that come and go are taken as they are',
      rollout(cfg('a', 50, [['a1', 50]]), cfg('b', 50, [['b1', 50]])),
      rollout(cfg('a', 50, [['a1', 50]]), cfg('c', 50, [['c1', 50]]), cfg('a', 100, [['a1', 100]], {}, 'x')),
      60,
      T,
      {
        rollout: rollout(
          cfg('a', 50, [['a1', 50]]),
          cfg('c', 50, [['c1', 50]]),
          cfg('a', 100, [['a1', 100]], {}, 'x'),
        ),
        inProgress: false,
      },
    ],
  ];

  it.each(cases)('%s', (_name, previous, desired, duration, now, expected) => {
    expect(stepRollout(previous, desired, duration, now)).toStrictEqual(expected);
  });

  it('does not modify its inputs', () => {
    const previous = rollout(
      cfg(
        'c',
        100,
        [
          ['r1', 60],
          ['r2', 40],
        ],
        fourSteps(T, T),
      ),
    );
    const desired = rollout(cfg('c', 50, [['r3', 50]]));
    const before = JSON.stringify([previous, desired]);
    stepRollout(previous, desired, 5, T);
    expect(JSON.stringify([previous, desired])).toBe(before);
  });

  type Moment = [number, [string, number][], number | undefined];

  /** Runs successive reconciles, each from the state the last one stored. */
  function run(start: Rollout, desired: Rollout, duration: number, moments: Moment[]): Moment[] {
    let state: Rollout | undefined = start;
    return moments.map(([now]) => {
      const result = stepRollout(state, desired, duration, now);
      state = result.rollout;
      const c = result.rollout.configurations[0];
      return [
        now,
        (c?.revisions ?? []).map((r): [string, number] => [r.revisionName, r.percent]),
        result.nextStepAt,
      ];
    });
  }

  it("steps 100% in 4 steps as Knative's example: 1 -> 26 -> 51 -> 76 -> 100", () => {
    const moments: Moment[] = [
      [
        T,
        [
          ['r1', 99],
          ['r2', 1],
        ],
        T + 1000,
      ],
      [
        T + 1000,
        [
          ['r1', 74],
          ['r2', 26],
        ],
        T + 2000,
      ],
      [
        T + 2000,
        [
          ['r1', 49],
          ['r2', 51],
        ],
        T + 3000,
      ],
      [
        T + 3000,
        [
          ['r1', 24],
          ['r2', 76],
        ],
        T + 4000,
      ],
      [T + 4000, [['r2', 100]], undefined],
      [T + 5000, [['r2', 100]], undefined],
    ];
    expect(
      run(rollout(cfg('c', 100, [['r1', 100]])), rollout(cfg('c', 100, [['r2', 100]])), 5, moments),
    ).toEqual(moments);
  });

  it('restarts for a third revision, draining the newer old revision first', () => {
    const start = rollout(
      cfg(
        'c',
        100,
        [
          ['r1', 70],
          ['r2', 30],
        ],
        fourSteps(T - 10_000, T + 500),
      ),
    );
    const moments: Moment[] = [
      // r3 takes 1% from r2 and the clock restarts.
      [
        T,
        [
          ['r1', 70],
          ['r2', 29],
          ['r3', 1],
        ],
        T + 1000,
      ],
      [
        T + 1000,
        [
          ['r1', 70],
          ['r2', 4],
          ['r3', 26],
        ],
        T + 2000,
      ],
      [
        T + 2000,
        [
          ['r1', 49],
          ['r3', 51],
        ],
        T + 3000,
      ],
      [
        T + 3000,
        [
          ['r1', 24],
          ['r3', 76],
        ],
        T + 4000,
      ],
      [T + 4000, [['r3', 100]], undefined],
    ];
    expect(run(start, rollout(cfg('c', 100, [['r3', 100]])), 5, moments)).toEqual(moments);
  });

  it('reports the rollout done once the last step lands', () => {
    const result = stepRollout(
      rollout(
        cfg(
          'c',
          100,
          [
            ['r1', 24],
            ['r2', 76],
          ],
          fourSteps(T, T + 4000),
        ),
      ),
      rollout(cfg('c', 100, [['r2', 100]])),
      5,
      T + 4000,
    );
    expect(result).toStrictEqual({ rollout: rollout(cfg('c', 100, [['r2', 100]])), inProgress: false });
  });
});

describe('stored rollout JSON', () => {
  const knative =
    '{"configurations":[{"configurationName":"c","percent":100,"revisions":[{"revisionName":"r1","percent":99},' +
    '{"revisionName":"r2","percent":1}],"stepParams":{"starttime":1000,"nextStepTime":2000,"stepDuration":1000,"stepSize":25}},' +
    '{"configurationName":"c","tag":"x","percent":100,"revisions":[{"revisionName":"r2","percent":100}],"stepParams":{}}]}';

  it('reads and writes Knative’s shape', () => {
    const parsed = parseRollout(knative);
    expect(parsed).toStrictEqual(
      rollout(
        cfg(
          'c',
          100,
          [
            ['r1', 99],
            ['r2', 1],
          ],
          { starttime: 1000, nextStepTime: 2000, stepDuration: 1000, stepSize: 25 },
        ),
        cfg('c', 100, [['r2', 100]], {}, 'x'),
      ),
    );
    expect(parsed && serializeRollout(parsed)).toBe(knative);
  });

  const discarded: [string, string | undefined][] = [
    ['nothing stored', undefined],
    ['an empty annotation', ''],
    ['not JSON', '{"configurations":'],
    ['the wrong shape', '{"configurations":[{"percent":"all"}]}'],
    [
      'over 100%',
      '{"configurations":[{"configurationName":"c","percent":101,"revisions":[{"revisionName":"r","percent":101}]}]}',
    ],
    [
      'revisions not adding up',
      '{"configurations":[{"configurationName":"c","percent":100,"revisions":[{"revisionName":"r","percent":90}]}]}',
    ],
    [
      'a step larger than the total',
      '{"configurations":[{"configurationName":"c","percent":10,"revisions":[{"revisionName":"r","percent":10}],"stepParams":{"stepSize":20}}]}',
    ],
  ];

  it.each(discarded)('discards %s', (_name, json) => {
    expect(parseRollout(json)).toBeUndefined();
  });

  it('writes an empty rollout as {}', () => {
    expect(serializeRollout(rollout())).toBe('{}');
  });
});

const t = (
  revisionName: string,
  percent: number,
  latestRevision: boolean,
  tag?: string,
  /** null: a revision no configuration created. */
  configurationName: string | null = 'cfg',
): ResolvedTarget => ({
  ...(tag !== undefined ? { tag } : {}),
  revisionName,
  ...(configurationName !== null ? { configurationName } : {}),
  latestRevision,
  percent,
});

const traffic = (
  targets: ResolvedTarget[],
  groups: [string, ResolvedTarget[]][],
  byTag: [string, string][] = [],
): ResolvedTraffic => ({
  ok: true,
  targets,
  groups: new Map(groups),
  byTag: new Map(byTag),
  revisions: [...new Set(targets.map((x) => x.revisionName))].sort(),
  configurations: ['cfg'],
});

describe('buildRollout', () => {
  const cases: [string, ResolvedTraffic, Rollout][] = [
    [
      'one entry per host and followed configuration, sorted by tag',
      traffic(
        [t('cfg-00001', 50, false, 'current'), t('cfg-00002', 50, true, 'candidate')],
        [
          ['', [t('cfg-00001', 50, false, 'current'), t('cfg-00002', 50, true, 'candidate')]],
          ['candidate', [t('cfg-00002', 100, true, 'candidate')]],
          ['current', [t('cfg-00001', 100, false, 'current')]],
        ],
      ),
      rollout(cfg('cfg', 50, [['cfg-00002', 50]]), cfg('cfg', 100, [['cfg-00002', 100]], {}, 'candidate')),
    ],
    [
      'nothing for pinned revisions or 0% shares',
      traffic(
        [t('cfg-00001', 100, false), t('cfg-00002', 0, true)],
        [['', [t('cfg-00001', 100, false), t('cfg-00002', 0, true)]]],
      ),
      rollout(),
    ],
  ];

  it.each(cases)('%s', (_name, resolved, expected) => {
    expect(buildRollout(resolved)).toStrictEqual(expected);
  });
});

describe('trafficFromRollout', () => {
  const resolved = traffic(
    [t('cfg-00002', 100, true), t('cfg-00002', 0, true, 'latest'), t('plain', 0, false, 'pinned', null)],
    [
      ['', [t('cfg-00002', 100, true), t('plain', 0, false, 'pinned', null)]],
      ['latest', [t('cfg-00002', 100, true, 'latest')]],
      ['pinned', [t('plain', 100, false, 'pinned', null)]],
    ],
    [
      ['latest', 'cfg-00002'],
      ['pinned', 'plain'],
    ],
  );
  const midway = rollout(
    cfg(
      'cfg',
      100,
      [
        ['cfg-00001', 60],
        ['cfg-00002', 40],
      ],
      fourSteps(T, T + 1000),
    ),
    cfg(
      'cfg',
      100,
      [
        ['cfg-00001', 60],
        ['cfg-00002', 40],
      ],
      fourSteps(T, T + 1000),
      'latest',
    ),
  );

  const cases: [string, Rollout, ResolvedTraffic][] = [
    ['a finished rollout leaves traffic as resolved', buildRollout(resolved), resolved],
    [
      'a rollout under way splits the targets that follow the configuration',
      midway,
      {
        ...traffic(
          [
            t('cfg-00001', 60, true),
            t('cfg-00002', 40, true),
            // As Knative: a tagged entry shows its tag host's split, whatever its own share.
            t('cfg-00001', 60, true, 'latest'),
            t('cfg-00002', 40, true, 'latest'),
            t('plain', 0, false, 'pinned', null),
          ],
          [
            ['', [t('cfg-00001', 60, true), t('cfg-00002', 40, true), t('plain', 0, false, 'pinned', null)]],
            ['latest', [t('cfg-00001', 60, true, 'latest'), t('cfg-00002', 40, true, 'latest')]],
            ['pinned', [t('plain', 100, false, 'pinned', null)]],
          ],
          [
            ['latest', 'cfg-00002'],
            ['pinned', 'plain'],
          ],
        ),
      },
    ],
  ];

  it.each(cases)('%s', (_name, ro, expected) => {
    expect(trafficFromRollout(resolved, ro)).toStrictEqual(expected);
  });
});
