// Table tests of reading a Revision's failures from its Deployment and pods, with statuses as the
// kubelet, scheduler and Deployment controller write them.
import { describe, expect, it } from '@jest/globals';
import type { V1Deployment, V1DeploymentCondition, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import { containerFailure, revisionFailures, type RevisionFailure } from './container-failure.ts';

const rev: Revision = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Revision',
  metadata: { name: 'hello-00001', namespace: 'demo', uid: 'rev-uid' },
  spec: {
    containers: [
      { name: 'proxy', image: 'ghcr.io/demo/proxy:1' },
      { name: 'user-container', image: 'ghcr.io/demo/hello:1', ports: [{ containerPort: 8080 }] },
    ],
  },
};

const RS = 'hello-00001-deployment-5d8f7c9b4';

const progressing: V1DeploymentCondition = {
  type: 'Progressing',
  status: 'True',
  reason: 'ReplicaSetUpdated',
  message: `ReplicaSet "${RS}" is progressing.`,
};
const unavailable: V1DeploymentCondition = {
  type: 'Available',
  status: 'False',
  reason: 'MinimumReplicasUnavailable',
  message: 'Deployment does not have minimum availability.',
};
const timedOut: V1DeploymentCondition = {
  type: 'Progressing',
  status: 'False',
  reason: 'ProgressDeadlineExceeded',
  message: `ReplicaSet "${RS}" has timed out progressing.`,
};
const quota: V1DeploymentCondition = {
  type: 'ReplicaFailure',
  status: 'True',
  reason: 'FailedCreate',
  message: `pods "${RS}-x7k2p" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=9, limited: cpu=10`,
};

function deployment(replicas: number, available: number, conditions: V1DeploymentCondition[]): V1Deployment {
  return {
    spec: { replicas, selector: { matchLabels: {} }, template: {} },
    status: { replicas, availableReplicas: available, readyReplicas: available, conditions },
  };
}

const pod = (name: string, status: V1PodStatus): V1Pod => ({ metadata: { name }, status });

const proxyRunning = {
  name: 'proxy',
  image: 'ghcr.io/demo/proxy:1',
  imageID: '',
  ready: true,
  restartCount: 0,
  state: { running: { startedAt: new Date(0) } },
};

const imagePullBackOff = pod(`${RS}-a`, {
  phase: 'Pending',
  conditions: [{ type: 'PodScheduled', status: 'True' }],
  containerStatuses: [
    proxyRunning,
    {
      name: 'user-container',
      image: 'ghcr.io/demo/hello:nope',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: {
        waiting: {
          reason: 'ImagePullBackOff',
          message: 'Back-off pulling image "ghcr.io/demo/hello:nope"',
        },
      },
    },
  ],
});

const crashLoop = (name: string, exitCode: number, message?: string) =>
  pod(name, {
    phase: 'Running',
    conditions: [{ type: 'PodScheduled', status: 'True' }],
    containerStatuses: [
      proxyRunning,
      {
        name: 'user-container',
        image: 'ghcr.io/demo/hello:1',
        imageID: 'ghcr.io/demo/hello@sha256:aa',
        ready: false,
        restartCount: 3,
        state: {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off 40s restarting failed container=user-container pod=${name}`,
          },
        },
        lastState: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', message } },
      },
    ],
  });

const unschedulable = pod(`${RS}-c`, {
  phase: 'Pending',
  conditions: [
    {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available.',
    },
  ],
});

const creating = pod(`${RS}-0`, {
  phase: 'Pending',
  conditions: [{ type: 'PodScheduled', status: 'True' }],
  containerStatuses: [
    proxyRunning,
    {
      name: 'user-container',
      image: 'ghcr.io/demo/hello:1',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    },
  ],
});

const proxyCrashing = pod(`${RS}-d`, {
  phase: 'Running',
  containerStatuses: [
    {
      ...proxyRunning,
      ready: false,
      restartCount: 2,
      lastState: { terminated: { exitCode: 1, message: 'proxy config invalid' } },
    },
    {
      name: 'user-container',
      image: 'ghcr.io/demo/hello:1',
      imageID: 'ghcr.io/demo/hello@sha256:aa',
      ready: false,
      restartCount: 0,
      state: { running: { startedAt: new Date(0) } },
    },
  ],
});

const RA = 'ResourcesAvailable';
const CH = 'ContainerHealthy';

describe('revisionFailures', () => {
  const cases: [string, V1Deployment, V1Pod[], RevisionFailure[]][] = [
    ['a healthy Deployment', deployment(1, 1, [progressing]), [], []],
    [
      'an image pull back-off before the progress deadline is not yet a failure',
      deployment(1, 0, [unavailable, progressing]),
      [imagePullBackOff],
      [],
    ],
    [
      'an image pull back-off once the progress deadline passed',
      deployment(1, 0, [unavailable, timedOut]),
      [imagePullBackOff],
      [
        {
          condition: RA,
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${RS}" has timed out progressing.`,
        },
        {
          condition: RA,
          reason: 'ImagePullBackOff',
          message: 'Back-off pulling image "ghcr.io/demo/hello:nope"',
        },
      ],
    ],
    [
      'a crash loop: the last exit code and message',
      deployment(1, 0, [unavailable, progressing]),
      [crashLoop(`${RS}-b`, 5, 'cannot connect to database')],
      [{ condition: CH, reason: 'ExitCode5', message: 'Container failed with: cannot connect to database' }],
    ],
    [
      'a container that exits 0 without a message',
      deployment(1, 0, [unavailable, progressing]),
      [crashLoop(`${RS}-b`, 0)],
      [
        {
          condition: CH,
          reason: 'ExitCode0',
          message: 'Container failed with: container exited with no error',
        },
      ],
    ],
    [
      'a crash loop after the deadline: the exit code, not the waiting reason',
      deployment(1, 0, [unavailable, timedOut]),
      [crashLoop(`${RS}-b`, 137, 'OOMKilled')],
      [
        {
          condition: RA,
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${RS}" has timed out progressing.`,
        },
        { condition: CH, reason: 'ExitCode137', message: 'Container failed with: OOMKilled' },
      ],
    ],
    [
      'a pod the scheduler cannot place',
      deployment(1, 0, [unavailable, progressing]),
      [unschedulable],
      [
        {
          condition: RA,
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available.',
        },
      ],
    ],
    [
      'a quota refusing pods',
      deployment(1, 0, [unavailable, progressing, quota]),
      [],
      [{ condition: RA, reason: 'FailedCreate', message: quota.message ?? '' }],
    ],
    [
      'pods are not examined once one is available',
      deployment(2, 1, [progressing]),
      [crashLoop(`${RS}-b`, 5, 'cannot connect to database')],
      [],
    ],
    [
      'pods are not examined when none are wanted',
      deployment(0, 0, [progressing]),
      [crashLoop(`${RS}-b`, 5, 'cannot connect to database')],
      [],
    ],
    [
      "only the serving container's state counts",
      deployment(1, 0, [unavailable, progressing]),
      [proxyCrashing],
      [],
    ],
    [
      'the first pod by name that shows a problem',
      deployment(3, 0, [unavailable, progressing]),
      [crashLoop(`${RS}-z`, 2, 'later pod'), crashLoop(`${RS}-b`, 5, 'earlier pod'), creating],
      [{ condition: CH, reason: 'ExitCode5', message: 'Container failed with: earlier pod' }],
    ],
  ];
  it.each(cases)('%s', (_name, dep, pods, want) => {
    expect(revisionFailures(rev, dep, pods)).toStrictEqual(want);
  });
});

describe('containerFailure', () => {
  const cases: [string, V1Deployment, V1Pod[], RevisionFailure | undefined][] = [
    ['nothing wrong', deployment(1, 1, [progressing]), [], undefined],
    [
      'the last finding is the one Ready shows',
      deployment(1, 0, [unavailable, timedOut]),
      [imagePullBackOff],
      {
        condition: RA,
        reason: 'ImagePullBackOff',
        message: 'Back-off pulling image "ghcr.io/demo/hello:nope"',
      },
    ],
  ];
  it.each(cases)('%s', (_name, dep, pods, want) => {
    expect(containerFailure(rev, dep, pods)).toStrictEqual(want);
  });
});
