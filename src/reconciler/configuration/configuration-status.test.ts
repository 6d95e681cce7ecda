// Table tests for the Configuration's status: latestCreated/latestReady, Ready following the latest
// created Revision, and the events Knative's configuration reconciler records on the way.
import { describe, expect, it } from '@jest/globals';
import { LABELS } from '../../apis/serving/register.ts';
import type { Condition, ConditionStatus } from '../../apis/meta/v1.ts';
import type { Configuration, ConfigurationStatus } from '../../apis/serving/v1/configuration-types.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import { configurationStatus, type ConfigurationObservation } from './configuration-status.ts';

const NOW = new Date('2025-01-10T00:00:00Z');
const T_NOW = '2025-01-10T00:00:00Z';
const T_OLD = '2025-01-01T00:00:00Z';

function ready(status: ConditionStatus, at: string, reason?: string, message?: string): Condition[] {
  const c: Condition = { type: 'Ready', status, lastTransitionTime: at };
  if (reason !== undefined) c.reason = reason;
  if (message !== undefined) c.message = message;
  return [c];
}

function cfg(generation: number, status?: ConfigurationStatus, byo?: string): Configuration {
  const c: Configuration = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Configuration',
    metadata: { name: 'hello', namespace: 'default', uid: 'cfg-uid', generation },
    spec: { template: { spec: { containers: [{ image: 'busybox' }] } } },
  };
  if (byo !== undefined) c.spec.template.metadata = { name: byo };
  if (status !== undefined) c.status = status;
  return c;
}

/** A Revision of `hello` stamped from `generation`; `state` is its Ready status, if it has one. */
function rev(name: string, generation: number, state?: ConditionStatus, message?: string): Revision {
  const r: Revision = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Revision',
    metadata: {
      name,
      namespace: 'default',
      generation: 1,
      labels: { [LABELS.configuration]: 'hello', [LABELS.configurationGeneration]: String(generation) },
    },
    spec: {},
  };
  if (state !== undefined) {
    const c: Condition = { type: 'Ready', status: state };
    if (message !== undefined) c.message = message;
    r.status = { observedGeneration: 1, conditions: [c] };
  }
  return r;
}

const r1 = rev('hello-00001', 1, 'True');
const r2Pending = rev('hello-00002', 2);
const r2Ready = rev('hello-00002', 2, 'True');
const BOOM = 'Container failed with: boom';
const r2Failed = rev('hello-00002', 2, 'False', BOOM);
const FAILED_MESSAGE = `Revision "hello-00002" failed with message: ${BOOM}.`;

/** An event as recorded; wider than ConfigurationEvent so Knative's LatestReadyFailed can be expected. */
interface Event {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

const readyUpdate = (name: string): Event => ({
  type: 'Normal',
  reason: 'LatestReadyUpdate',
  message: `LatestReadyRevisionName updated to "${name}"`,
});

interface Case {
  cfg: Configuration;
  seen: ConfigurationObservation;
  status: ConfigurationStatus;
  /** Omitted where Knative's events are not what the case is about. */
  events?: Event[];
}

const cases: [string, Case][] = [
  [
    'a new Revision: latest created, Ready Unknown',
    {
      cfg: cfg(1),
      seen: { latestCreated: rev('hello-00001', 1), revisions: [rev('hello-00001', 1)] },
      status: { latestCreatedRevisionName: 'hello-00001', conditions: ready('Unknown', T_NOW) },
      events: [],
    },
  ],
  [
    'the first Revision becomes ready',
    {
      cfg: cfg(1, { latestCreatedRevisionName: 'hello-00001', conditions: ready('Unknown', T_OLD) }),
      seen: { latestCreated: r1, revisions: [r1] },
      status: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('True', T_NOW),
      },
      events: [
        { type: 'Normal', reason: 'ConfigurationReady', message: 'Configuration becomes ready' },
        readyUpdate('hello-00001'),
      ],
    },
  ],
  [
    'steady state changes nothing',
    {
      cfg: cfg(1, {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('True', T_OLD),
      }),
      seen: { latestCreated: r1, revisions: [r1] },
      status: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('True', T_OLD),
      },
      events: [],
    },
  ],
  [
    'a newer Revision not ready yet: latest ready stays, Ready Unknown',
    {
      cfg: cfg(2, {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('True', T_OLD),
      }),
      seen: { latestCreated: r2Pending, revisions: [r1, r2Pending] },
      status: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('Unknown', T_NOW),
      },
      events: [],
    },
  ],
  [
    'the newer Revision becomes ready',
    {
      cfg: cfg(2, {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('Unknown', T_OLD),
      }),
      seen: { latestCreated: r2Ready, revisions: [r1, r2Ready] },
      status: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00002',
        conditions: ready('True', T_NOW),
      },
      events: [readyUpdate('hello-00002')],
    },
  ],
  [
    'a Revision that has not observed its generation is not ready yet',
    {
      cfg: cfg(1, { latestCreatedRevisionName: 'hello-00001', conditions: ready('Unknown', T_OLD) }),
      seen: {
        latestCreated: { ...r1, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
        revisions: [{ ...r1, status: { conditions: [{ type: 'Ready', status: 'True' }] } }],
      },
      status: { latestCreatedRevisionName: 'hello-00001', conditions: ready('Unknown', T_OLD) },
    },
  ],
  [
    'the latest created Revision fails',
    {
      cfg: cfg(2, {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('Unknown', T_OLD),
      }),
      seen: { latestCreated: r2Failed, revisions: [r1, r2Failed] },
      status: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('False', T_NOW, 'RevisionFailed', FAILED_MESSAGE),
      },
      events: [
        {
          type: 'Warning',
          reason: 'LatestCreatedFailed',
          message: 'Latest created revision "hello-00002" has failed',
        },
      ],
    },
  ],
  [
    'a failure already reported keeps its transition time',
    {
      cfg: cfg(2, {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('False', T_OLD, 'RevisionFailed', FAILED_MESSAGE),
      }),
      seen: { latestCreated: r2Failed, revisions: [r1, r2Failed] },
      status: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('False', T_OLD, 'RevisionFailed', FAILED_MESSAGE),
      },
    },
  ],
  [
    'the latest ready Revision fails: LatestReadyFailed',
    {
      cfg: cfg(1, {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('True', T_OLD),
      }),
      seen: {
        latestCreated: rev('hello-00001', 1, 'False', BOOM),
        revisions: [rev('hello-00001', 1, 'False', BOOM)],
      },
      status: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready(
          'False',
          T_NOW,
          'RevisionFailed',
          `Revision "hello-00001" failed with message: ${BOOM}.`,
        ),
      },
      events: [
        {
          type: 'Warning',
          reason: 'LatestReadyFailed',
          message: 'Latest ready revision "hello-00001" has failed',
        },
      ],
    },
  ],
  [
    'creating the Revision failed: Ready False, latest created unchanged',
    {
      cfg: cfg(2, {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('True', T_OLD),
      }),
      seen: { creationFailure: 'admission webhook denied the request', revisions: [r1] },
      status: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready(
          'False',
          T_NOW,
          'RevisionFailed',
          'Revision creation failed with message: admission webhook denied the request.',
        ),
      },
      events: [],
    },
  ],
  [
    'the latest ready Revision was deleted and none other is ready: RevisionDeleted',
    {
      cfg: cfg(2, {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('Unknown', T_OLD),
      }),
      seen: { latestCreated: r2Pending, revisions: [r2Pending] },
      status: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('False', T_NOW, 'RevisionDeleted', 'Revision "hello-00001" was deleted.'),
      },
      events: [],
    },
  ],
  [
    'the latest ready Revision was deleted: an older ready one takes over',
    {
      cfg: cfg(3, {
        latestCreatedRevisionName: 'hello-00003',
        latestReadyRevisionName: 'hello-00002',
        conditions: ready('Unknown', T_OLD),
      }),
      seen: { latestCreated: rev('hello-00003', 3), revisions: [r1, rev('hello-00003', 3)] },
      status: {
        latestCreatedRevisionName: 'hello-00003',
        latestReadyRevisionName: 'hello-00001',
        conditions: ready('Unknown', T_OLD),
      },
      events: [readyUpdate('hello-00001')],
    },
  ],
  [
    'latest ready never moves back to a Revision older than the current one',
    {
      cfg: cfg(3, {
        latestCreatedRevisionName: 'hello-00003',
        latestReadyRevisionName: 'hello-00002',
        conditions: ready('Unknown', T_OLD),
      }),
      seen: { latestCreated: rev('hello-00003', 3), revisions: [r1, r2Failed, rev('hello-00003', 3)] },
      status: {
        latestCreatedRevisionName: 'hello-00003',
        latestReadyRevisionName: 'hello-00002',
        conditions: ready('Unknown', T_OLD),
      },
      events: [],
    },
  ],
  [
    'a bring-your-own Revision from an older generation (git revert) is preferred when ready',
    {
      cfg: cfg(
        5,
        {
          latestCreatedRevisionName: 'hello-00004',
          latestReadyRevisionName: 'hello-00004',
          conditions: ready('True', T_OLD),
        },
        'hello-blue',
      ),
      seen: {
        latestCreated: rev('hello-blue', 3, 'True'),
        revisions: [rev('hello-blue', 3, 'True'), rev('hello-00004', 4, 'True')],
      },
      status: {
        latestCreatedRevisionName: 'hello-blue',
        latestReadyRevisionName: 'hello-blue',
        // Ready ends as it started, so it keeps its transition time (no churn on the write).
        conditions: ready('True', T_OLD),
      },
      events: [readyUpdate('hello-blue')],
    },
  ],
];

describe('configurationStatus', () => {
  it.each(cases)('%s', (_name, c) => {
    const got = configurationStatus(c.cfg, c.seen, NOW);
    expect(got.status).toEqual(c.status);
    if (c.events !== undefined) expect(got.events).toEqual(c.events);
  });

  it('does not change the Configuration it reads', () => {
    const c = cfg(2, {
      latestCreatedRevisionName: 'hello-00001',
      latestReadyRevisionName: 'hello-00001',
      conditions: ready('True', T_OLD),
    });
    const copy = structuredClone(c);
    configurationStatus(c, { latestCreated: r2Ready, revisions: [r1, r2Ready] }, NOW);
    expect(c).toEqual(copy);
  });
});
