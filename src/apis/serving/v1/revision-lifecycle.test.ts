// Table tests for the Revision's conditions: how a Deployment's and a PodAutoscaler's statuses map
// onto ResourcesAvailable, ContainerHealthy, Active and Ready. Expectations follow Knative's
// revision_lifecycle.go and serving's TransformDeploymentStatus golden vectors.
import { describe, expect, it } from '@jest/globals';
import type { V1DeploymentCondition, V1DeploymentStatus } from '@kubernetes/client-node';
import type { PodAutoscalerStatus } from '../../autoscaling/v1alpha1/podautoscaler-types.ts';
import type { Condition, ConditionStatus } from '../../meta/v1.ts';
import { READY, type ConditionManager } from './conditions.ts';
import {
  ACTIVE,
  CONTAINER_HEALTHY,
  RESOURCES_AVAILABLE,
  REVISION_CONDITIONS,
  containerExitingMessage,
  containerMissingMessage,
  deploymentReadiness,
  exitCodeReason,
  notOwnedMessage,
  propagateAutoscalerStatus,
  propagateDeploymentStatus,
} from './revision-lifecycle.ts';

const NOW = new Date('2025-01-10T00:00:00Z');

function dc(type: string, status: ConditionStatus, reason?: string, message?: string): V1DeploymentCondition {
  return { type, status, reason, message };
}

function paCond(type: string, status: ConditionStatus, reason?: string, message?: string): Condition {
  const c: Condition = { type, status };
  if (reason !== undefined) c.reason = reason;
  if (message !== undefined) c.message = message;
  return c;
}

/** A condition as `Status[/Reason[/Message]]`, or `-` when missing. */
function show(c: Condition | undefined): string {
  if (c === undefined) return '-';
  return [c.status, c.reason ?? '', c.message ?? ''].join('/').replace(/\/+$/, '');
}

function summary(m: ConditionManager): Record<string, string> {
  return {
    Ready: show(m.get(READY)),
    ResourcesAvailable: show(m.get(RESOURCES_AVAILABLE)),
    ContainerHealthy: show(m.get(CONTAINER_HEALTHY)),
    Active: show(m.get(ACTIVE)),
  };
}

function fresh(): ConditionManager {
  const m = REVISION_CONDITIONS.manage(undefined, NOW);
  m.initialize();
  return m;
}

describe('deploymentReadiness', () => {
  const cases: [string, V1DeploymentStatus | undefined, ReturnType<typeof deploymentReadiness>][] = [
    // Golden vectors of serving's TestTransformDeploymentStatus.
    ['initial conditions', {}, { status: 'Unknown', reason: 'Deploying', message: undefined }],
    [
      'happy without replica set',
      { conditions: [dc('Progressing', 'True')] },
      { status: 'True', reason: undefined, message: undefined },
    ],
    [
      'happy with replica set',
      { conditions: [dc('Progressing', 'True'), dc('ReplicaFailure', 'False')] },
      { status: 'True', reason: undefined, message: undefined },
    ],
    [
      'false progressing, unknown replica set',
      { conditions: [dc('Progressing', 'False'), dc('ReplicaFailure', 'Unknown')] },
      { status: 'False', reason: undefined, message: undefined },
    ],
    [
      'unknown progressing, failed replica set',
      { conditions: [dc('Progressing', 'Unknown'), dc('ReplicaFailure', 'True')] },
      { status: 'False', reason: undefined, message: undefined },
    ],
    [
      'reason and message propagate',
      {
        conditions: [
          dc('Progressing', 'Unknown'),
          dc('ReplicaFailure', 'True', 'ReplicaSetReason', 'Something bag happened'),
        ],
      },
      { status: 'False', reason: 'ReplicaSetReason', message: 'Something bag happened' },
    ],
    [
      'a progress deadline carries the Deployment’s reason and message',
      {
        conditions: [
          dc('Available', 'False', 'MinimumReplicasUnavailable', 'ignored'),
          dc('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "r" has timed out progressing.'),
        ],
      },
      {
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: 'ReplicaSet "r" has timed out progressing.',
      },
    ],
    [
      'a replica failure outranks progress',
      {
        conditions: [dc('ReplicaFailure', 'True', 'FailedCreate', 'quota'), dc('Progressing', 'True')],
      },
      { status: 'False', reason: 'FailedCreate', message: 'quota' },
    ],
  ];

  it.each(cases)('%s', (_name, status, want) => {
    expect(deploymentReadiness(status)).toEqual(want);
  });

  it('reads a Deployment without status as one without conditions', () => {
    expect(deploymentReadiness(undefined)).toEqual(deploymentReadiness({}));
  });
});

describe('propagateDeploymentStatus', () => {
  // The flow of serving's TestPropagateDeploymentStatus, applied to one Revision in order.
  const steps: [string, (m: ConditionManager) => void, Record<string, ConditionStatus>][] = [
    [
      'empty deployment conditions leave the revision ongoing',
      (m) => {
        propagateDeploymentStatus(m, { conditions: [] });
      },
      { Ready: 'Unknown', ResourcesAvailable: 'Unknown', ContainerHealthy: 'Unknown' },
    ],
    [
      'a deployment failure fails ResourcesAvailable and Ready, not ContainerHealthy',
      (m) => {
        propagateDeploymentStatus(m, {
          conditions: [dc('Progressing', 'False'), dc('ReplicaFailure', 'Unknown')],
        });
      },
      { Ready: 'False', ResourcesAvailable: 'False', ContainerHealthy: 'Unknown' },
    ],
    [
      'marking the container healthy does not hide the deployment failure',
      (m) => {
        m.markTrue(CONTAINER_HEALTHY);
      },
      { Ready: 'False', ResourcesAvailable: 'False', ContainerHealthy: 'True' },
    ],
    [
      'the revision recovers once the deployment progresses',
      (m) => {
        propagateDeploymentStatus(m, { conditions: [dc('Progressing', 'True')] });
      },
      { Ready: 'True', ResourcesAvailable: 'True', ContainerHealthy: 'True' },
    ],
    [
      'it can go Unknown again',
      (m) => {
        propagateDeploymentStatus(m, { conditions: [dc('Progressing', 'Unknown')] });
      },
      { Ready: 'Unknown', ResourcesAvailable: 'Unknown', ContainerHealthy: 'True' },
    ],
    [
      'ReplicaFailure=True fails it',
      (m) => {
        propagateDeploymentStatus(m, { conditions: [dc('ReplicaFailure', 'True')] });
      },
      { Ready: 'False', ResourcesAvailable: 'False', ContainerHealthy: 'True' },
    ],
    [
      'ReplicaFailure=True outranks Progressing=Unknown',
      (m) => {
        propagateDeploymentStatus(m, {
          conditions: [dc('Progressing', 'Unknown'), dc('ReplicaFailure', 'True')],
        });
      },
      { Ready: 'False', ResourcesAvailable: 'False', ContainerHealthy: 'True' },
    ],
    [
      'ReplicaFailure=False with Progressing=True is Ready',
      (m) => {
        propagateDeploymentStatus(m, {
          conditions: [dc('Progressing', 'True'), dc('ReplicaFailure', 'False')],
        });
      },
      { Ready: 'True', ResourcesAvailable: 'True', ContainerHealthy: 'True' },
    ],
  ];

  it('follows a Deployment through failure and recovery', () => {
    const m = fresh();
    for (const [name, step, want] of steps) {
      step(m);
      const got = {
        Ready: m.status(READY),
        ResourcesAvailable: m.status(RESOURCES_AVAILABLE),
        ContainerHealthy: m.status(CONTAINER_HEALTHY),
      };
      expect({ step: name, ...got }).toEqual({ step: name, ...want });
    }
  });

  it('copies the deployment’s failure reason and message onto ResourcesAvailable and Ready', () => {
    const m = fresh();
    propagateDeploymentStatus(m, {
      conditions: [dc('Progressing', 'False', 'ProgressDeadlineExceeded', 'timed out')],
    });
    expect(summary(m)).toEqual({
      Ready: 'False/ProgressDeadlineExceeded/timed out',
      ResourcesAvailable: 'False/ProgressDeadlineExceeded/timed out',
      ContainerHealthy: 'Unknown',
      Active: '-',
    });
  });
});

describe('propagateAutoscalerStatus', () => {
  const QUEUED = 'Requests to the target are being buffered as resources are provisioned.';
  const TIMED_OUT = 'The target could not be activated.';
  const IDLE = 'The target is not receiving traffic.';
  const svc = 'rev-1';

  interface Case {
    /** Marks applied to an initialized Revision before the PodAutoscaler is looked at. */
    before?: (m: ConditionManager) => void;
    pa: PodAutoscalerStatus | undefined;
    want: Record<string, string>;
  }

  const cases: [string, Case][] = [
    [
      'no PodAutoscaler yet: deploying',
      {
        pa: undefined,
        want: {
          Ready: 'Unknown/Deploying',
          ResourcesAvailable: 'Unknown/Deploying',
          ContainerHealthy: 'Unknown',
          Active: 'Unknown/Deploying',
        },
      },
    ],
    [
      'a PodAutoscaler without a Ready condition: deploying',
      {
        pa: { serviceName: svc },
        want: {
          Ready: 'Unknown/Deploying',
          ResourcesAvailable: 'Unknown/Deploying',
          ContainerHealthy: 'Unknown',
          Active: 'Unknown/Deploying',
        },
      },
    ],
    [
      'ready and initialized: resources available, container healthy, active',
      {
        pa: {
          serviceName: svc,
          conditions: [paCond('Ready', 'True'), paCond('ScaleTargetInitialized', 'True')],
        },
        want: { Ready: 'True', ResourcesAvailable: 'True', ContainerHealthy: 'True', Active: 'True' },
      },
    ],
    [
      'initialized without a service name (initial scale 0): still deploying',
      {
        pa: { conditions: [paCond('Ready', 'True'), paCond('ScaleTargetInitialized', 'True')] },
        want: {
          Ready: 'Unknown/Deploying',
          ResourcesAvailable: 'Unknown/Deploying',
          ContainerHealthy: 'True',
          Active: 'True',
        },
      },
    ],
    [
      'a ready Deployment before the scale target is initialized: still deploying',
      {
        before: (m) => {
          m.markTrue(RESOURCES_AVAILABLE);
        },
        pa: {
          serviceName: svc,
          conditions: [
            paCond('Ready', 'Unknown', 'Queued', QUEUED),
            paCond('ScaleTargetInitialized', 'Unknown'),
          ],
        },
        want: {
          Ready: 'Unknown/Deploying',
          ResourcesAvailable: 'Unknown/Deploying',
          ContainerHealthy: 'Unknown',
          Active: `Unknown/Queued/${QUEUED}`,
        },
      },
    ],
    [
      'activating after initialization: Active Unknown, Ready stays True',
      {
        pa: {
          serviceName: svc,
          conditions: [
            paCond('Ready', 'Unknown', 'Queued', QUEUED),
            paCond('ScaleTargetInitialized', 'True'),
          ],
        },
        want: {
          Ready: 'True',
          ResourcesAvailable: 'True',
          ContainerHealthy: 'True',
          Active: `Unknown/Queued/${QUEUED}`,
        },
      },
    ],
    [
      'scaled to zero: Active False, still Ready',
      {
        pa: {
          serviceName: svc,
          conditions: [paCond('Ready', 'False', 'NoTraffic', IDLE), paCond('ScaleTargetInitialized', 'True')],
        },
        want: {
          Ready: 'True',
          ResourcesAvailable: 'True',
          ContainerHealthy: 'True',
          Active: `False/NoTraffic/${IDLE}`,
        },
      },
    ],
    [
      'initial scale never reached before the PodAutoscaler timed out: failed',
      {
        pa: {
          serviceName: svc,
          conditions: [
            paCond('Ready', 'False', 'TimedOut', TIMED_OUT),
            paCond('ScaleTargetInitialized', 'Unknown'),
          ],
        },
        want: {
          Ready: 'False/ProgressDeadlineExceeded/Initial scale was never achieved',
          ResourcesAvailable: 'False/ProgressDeadlineExceeded/Initial scale was never achieved',
          ContainerHealthy: 'Unknown',
          Active: `False/TimedOut/${TIMED_OUT}`,
        },
      },
    ],
    [
      'idle before initial scale (NoTraffic) is not a failure',
      {
        pa: {
          serviceName: svc,
          conditions: [
            paCond('Ready', 'False', 'NoTraffic', IDLE),
            paCond('ScaleTargetInitialized', 'Unknown'),
          ],
        },
        want: {
          Ready: 'Unknown',
          ResourcesAvailable: 'Unknown',
          ContainerHealthy: 'Unknown',
          Active: `False/NoTraffic/${IDLE}`,
        },
      },
    ],
    [
      'a timeout before the service name is known is not a failure yet',
      {
        pa: {
          conditions: [
            paCond('Ready', 'False', 'TimedOut', TIMED_OUT),
            paCond('ScaleTargetInitialized', 'Unknown'),
          ],
        },
        want: {
          Ready: 'Unknown',
          ResourcesAvailable: 'Unknown',
          ContainerHealthy: 'Unknown',
          Active: `False/TimedOut/${TIMED_OUT}`,
        },
      },
    ],
    [
      'a deployment failure is not overridden by the scale target being initialized',
      {
        before: (m) => {
          m.markFalse(RESOURCES_AVAILABLE, 'somehow', 'somewhere');
        },
        pa: {
          serviceName: svc,
          conditions: [paCond('Ready', 'Unknown'), paCond('ScaleTargetInitialized', 'True')],
        },
        want: {
          Ready: 'False/somehow/somewhere',
          ResourcesAvailable: 'False/somehow/somewhere',
          ContainerHealthy: 'Unknown',
          Active: 'Unknown',
        },
      },
    ],
    [
      'an earlier failure keeps its reason when the PodAutoscaler times out',
      {
        before: (m) => {
          m.markFalse(RESOURCES_AVAILABLE, 'another-one', 'bit-the-dust');
        },
        pa: {
          serviceName: svc,
          conditions: [
            paCond('Ready', 'False', 'TimedOut', TIMED_OUT),
            paCond('ScaleTargetInitialized', 'Unknown'),
          ],
        },
        want: {
          Ready: 'False/another-one/bit-the-dust',
          ResourcesAvailable: 'False/another-one/bit-the-dust',
          ContainerHealthy: 'Unknown',
          Active: `False/TimedOut/${TIMED_OUT}`,
        },
      },
    ],
    [
      'a crashing container is not overridden by the scale target being initialized',
      {
        before: (m) => {
          m.markFalse(CONTAINER_HEALTHY, exitCodeReason(1), containerExitingMessage('oops'));
        },
        pa: {
          serviceName: svc,
          conditions: [paCond('Ready', 'True'), paCond('ScaleTargetInitialized', 'True')],
        },
        want: {
          Ready: 'False/ExitCode1/Container failed with: oops',
          ResourcesAvailable: 'Unknown',
          ContainerHealthy: 'False/ExitCode1/Container failed with: oops',
          Active: 'True',
        },
      },
    ],
  ];

  it.each(cases)('%s', (_name, c) => {
    const m = fresh();
    c.before?.(m);
    propagateAutoscalerStatus(m, c.pa);
    expect(summary(m)).toEqual(c.want);
  });

  it.each<[string, PodAutoscalerStatus | undefined, object]>([
    ['no PodAutoscaler', undefined, {}],
    ['scales reported', { actualScale: 2, desiredScale: 3 }, { actualReplicas: 2, desiredReplicas: 3 }],
    ['zero is a scale', { actualScale: 0, desiredScale: 0 }, { actualReplicas: 0, desiredReplicas: 0 }],
    ['negative means unknown', { actualScale: -1, desiredScale: -1 }, {}],
    ['only the desired scale known', { desiredScale: 5 }, { desiredReplicas: 5 }],
  ])('replicas: %s', (_name, pa, want) => {
    expect(propagateAutoscalerStatus(fresh(), pa)).toEqual(want);
  });

  it('stamps Active with severity Info, since it does not feed Ready', () => {
    const m = fresh();
    propagateAutoscalerStatus(m, undefined);
    expect(m.get(ACTIVE)?.severity).toBe('Info');
    expect(m.get(RESOURCES_AVAILABLE)?.severity).toBeUndefined();
  });
});

describe('revision messages', () => {
  it.each<[string, string, string]>([
    ['exit code reason', exitCodeReason(137), 'ExitCode137'],
    ['container exiting', containerExitingMessage('OOMKilled'), 'Container failed with: OOMKilled'],
    [
      'container missing',
      containerMissingMessage('ghcr.io/x/y:1', 'not found'),
      'Unable to fetch image "ghcr.io/x/y:1": not found',
    ],
    [
      'not owned',
      notOwnedMessage('Deployment', 'rev-1-deployment'),
      'There is an existing Deployment "rev-1-deployment" that we do not own.',
    ],
  ])('%s', (_name, got, want) => {
    expect(got).toBe(want);
  });
});
