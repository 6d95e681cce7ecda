// Table tests for the PodAutoscaler's status read off its Deployment: scales, whether the initial
// scale was ever reached, and Active (Queued, NoTraffic, TimedOut) with Ready following them.
import { describe, expect, it } from '@jest/globals';
import type { V1Deployment, V1DeploymentCondition } from '@kubernetes/client-node';
import type { Condition, ConditionStatus } from '../../apis/meta/v1.ts';
import type {
  PodAutoscaler,
  PodAutoscalerStatus,
} from '../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { podAutoscalerStatus } from './podautoscaler-status.ts';

const NOW = new Date('2025-01-10T00:00:00Z');
const T_NOW = '2025-01-10T00:00:00Z';
const T_OLD = '2025-01-01T00:00:00Z';

const QUEUED = 'Requests to the target are being buffered as resources are provisioned.';
const IDLE = 'The target is not receiving traffic.';
const TIMED_OUT = 'The target could not be activated.';

function c(type: string, status: ConditionStatus, at: string, reason?: string, message?: string): Condition {
  const out: Condition = { type, status, lastTransitionTime: at };
  if (reason !== undefined) out.reason = reason;
  if (message !== undefined) out.message = message;
  return out;
}

/** Active, Ready and ScaleTargetInitialized, in the order they are stored. */
function conds(active: Condition, ready: Condition, sti: Condition): Condition[] {
  return [
    { ...active, type: 'Active' },
    { ...ready, type: 'Ready' },
    { ...sti, type: 'ScaleTargetInitialized' },
  ];
}

function pa(conditions?: Condition[]): PodAutoscaler {
  const p: PodAutoscaler = {
    apiVersion: 'autoscaling.internal.ebb.dev/v1alpha1',
    kind: 'PodAutoscaler',
    metadata: { name: 'hello-00001', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello-00001-deployment' } },
  };
  if (conditions !== undefined) p.status = { conditions };
  return p;
}

function deployment(
  replicas: number | undefined,
  ready: number | undefined,
  conditions: V1DeploymentCondition[] = [],
): V1Deployment {
  const d: V1Deployment = { spec: { selector: {}, template: {} }, status: { conditions } };
  if (replicas !== undefined && d.spec !== undefined) d.spec.replicas = replicas;
  if (ready !== undefined && d.status !== undefined) d.status.readyReplicas = ready;
  return d;
}

const DEADLINE: V1DeploymentCondition = {
  type: 'Progressing',
  status: 'False',
  reason: 'ProgressDeadlineExceeded',
  message: 'ReplicaSet "hello-00001-deployment-abc" has timed out progressing.',
};

const INITIALIZED_OLD = conds(c('', 'True', T_OLD), c('', 'True', T_OLD), c('', 'True', T_OLD));

interface Case {
  conditions?: Condition[];
  deployment: V1Deployment | undefined;
  initialScale?: number;
  want: PodAutoscalerStatus;
}

const cases: [string, Case][] = [
  [
    'no Deployment yet: queued',
    {
      deployment: undefined,
      want: {
        serviceName: 'hello-00001',
        conditions: conds(
          c('', 'Unknown', T_NOW, 'Queued', QUEUED),
          c('', 'Unknown', T_NOW, 'Queued', QUEUED),
          c('', 'Unknown', T_NOW),
        ),
      },
    },
  ],
  [
    'initial scale reached: initialized, active, ready',
    {
      deployment: deployment(1, 1),
      want: {
        serviceName: 'hello-00001',
        desiredScale: 1,
        actualScale: 1,
        conditions: conds(c('', 'True', T_NOW), c('', 'True', T_NOW), c('', 'True', T_NOW)),
      },
    },
  ],
  [
    'pods not ready yet: initializing and queued',
    {
      deployment: deployment(2, 0),
      want: {
        serviceName: 'hello-00001',
        desiredScale: 2,
        actualScale: 0,
        conditions: conds(
          c('', 'Unknown', T_NOW, 'Queued', QUEUED),
          c('', 'Unknown', T_NOW, 'Queued', QUEUED),
          c('', 'Unknown', T_NOW, 'Initializing'),
        ),
      },
    },
  ],
  [
    'some pods ready but fewer than the initial scale: active, not yet initialized',
    {
      deployment: deployment(3, 1),
      initialScale: 3,
      want: {
        serviceName: 'hello-00001',
        desiredScale: 3,
        actualScale: 1,
        conditions: conds(
          c('', 'True', T_NOW),
          c('', 'Unknown', T_NOW, 'Initializing'),
          c('', 'Unknown', T_NOW, 'Initializing'),
        ),
      },
    },
  ],
  [
    'the initial scale is never reached before the progress deadline: timed out',
    {
      deployment: deployment(1, 0, [DEADLINE]),
      want: {
        serviceName: 'hello-00001',
        desiredScale: 1,
        actualScale: 0,
        conditions: conds(
          c('', 'False', T_NOW, 'TimedOut', TIMED_OUT),
          c('', 'False', T_NOW, 'TimedOut', TIMED_OUT),
          c('', 'Unknown', T_NOW, 'Initializing'),
        ),
      },
    },
  ],
  [
    'scaled to zero after initialization: inactive, and initialization is never undone',
    {
      conditions: INITIALIZED_OLD,
      deployment: deployment(0, 0),
      want: {
        serviceName: 'hello-00001',
        desiredScale: 0,
        actualScale: 0,
        conditions: conds(
          c('', 'False', T_NOW, 'NoTraffic', IDLE),
          c('', 'False', T_NOW, 'NoTraffic', IDLE),
          c('', 'True', T_OLD),
        ),
      },
    },
  ],
  [
    'scaling up from zero after initialization: queued, a later deadline is no timeout',
    {
      conditions: INITIALIZED_OLD,
      deployment: deployment(1, 0, [DEADLINE]),
      want: {
        serviceName: 'hello-00001',
        desiredScale: 1,
        actualScale: 0,
        conditions: conds(
          c('', 'Unknown', T_NOW, 'Queued', QUEUED),
          c('', 'Unknown', T_NOW, 'Queued', QUEUED),
          c('', 'True', T_OLD),
        ),
      },
    },
  ],
  [
    'steady state keeps every transition time',
    {
      conditions: INITIALIZED_OLD,
      deployment: deployment(2, 2),
      want: { serviceName: 'hello-00001', desiredScale: 2, actualScale: 2, conditions: INITIALIZED_OLD },
    },
  ],
  [
    'replicas unset means one, readyReplicas unset means none',
    {
      deployment: deployment(undefined, undefined),
      want: {
        serviceName: 'hello-00001',
        desiredScale: 1,
        actualScale: 0,
        conditions: conds(
          c('', 'Unknown', T_NOW, 'Queued', QUEUED),
          c('', 'Unknown', T_NOW, 'Queued', QUEUED),
          c('', 'Unknown', T_NOW, 'Initializing'),
        ),
      },
    },
  ],
  [
    'initial scale 0: initialized at once and idle',
    {
      deployment: deployment(0, 0),
      initialScale: 0,
      want: {
        serviceName: 'hello-00001',
        desiredScale: 0,
        actualScale: 0,
        conditions: conds(
          c('', 'False', T_NOW, 'NoTraffic', IDLE),
          c('', 'False', T_NOW, 'NoTraffic', IDLE),
          c('', 'True', T_NOW),
        ),
      },
    },
  ],
];

describe('podAutoscalerStatus', () => {
  it.each(cases)('%s', (_name, tc) => {
    expect(podAutoscalerStatus(pa(tc.conditions), tc.deployment, tc.initialScale ?? 1, NOW)).toEqual(tc.want);
  });
});
