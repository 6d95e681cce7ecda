// What `npm run deploy` runs, and what it says about pods that keep the release from being ready.
import { describe, expect, it } from '@jest/globals';
import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { crdOwnership, installArgs, podProblems, uninstallArgs, warningEvents } from './release.ts';

function pod(name: string, status: V1Pod['status'], deleting = false): V1Pod {
  return {
    metadata: { name, ...(deleting ? { deletionTimestamp: new Date(0) } : {}) },
    status,
  };
}

function container(
  state: V1ContainerStatus['state'],
  extra: Partial<V1ContainerStatus> = {},
): V1ContainerStatus {
  return {
    name: 'webhook',
    image: 'dev.local/ebb:dev',
    imageID: '',
    ready: false,
    restartCount: 0,
    state,
    ...extra,
  };
}

const notReady = [{ type: 'Ready', status: 'False' }];

describe('installArgs', () => {
  it('installs or upgrades ebb in ebb-system with the local image, waiting for readiness', () => {
    expect(installArgs('/src/charts/ebb')).toEqual([
      'upgrade',
      '--install',
      'ebb',
      '/src/charts/ebb',
      '--namespace',
      'ebb-system',
      '--create-namespace',
      '--set',
      'image.repository=dev.local/ebb',
      '--set',
      'image.tag=dev',
      '--set',
      'image.pullPolicy=IfNotPresent',
      '--set-json',
      'config.domain={"example.com":""}',
      '--wait',
      '--timeout',
      '3m',
    ]);
  });

  it("puts the user's arguments last, so their --set wins", () => {
    expect(installArgs('c', ['--set', 'controller.replicas=1']).slice(-2)).toEqual([
      '--set',
      'controller.replicas=1',
    ]);
  });
});

describe('uninstallArgs', () => {
  it('tolerates a release that is already gone', () => {
    expect(uninstallArgs()).toEqual(expect.arrayContaining(['uninstall', 'ebb', '--ignore-not-found']));
  });
});

describe('podProblems', () => {
  it.each<[string, V1Pod[], string[]]>([
    ['no pods', [], []],
    ['a ready pod', [pod('ok', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] })], []],
    ['a pod being deleted by a rollout', [pod('old', { phase: 'Running', conditions: notReady }, true)], []],
    [
      'an unschedulable pod',
      [
        pod('p', {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/1 nodes are available: 1 Insufficient memory.',
            },
          ],
        }),
      ],
      ['p: not scheduled (Unschedulable)', '    | 0/1 nodes are available: 1 Insufficient memory.'],
    ],
    [
      'a crash loop, with the log tail of the last exit',
      [
        pod('w', {
          phase: 'Running',
          conditions: notReady,
          containerStatuses: [
            container(
              { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2s restarting failed container' } },
              {
                restartCount: 3,
                lastState: {
                  terminated: { exitCode: 2, message: 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n' },
                },
              },
            ),
          ],
        }),
      ],
      [
        'w/webhook: CrashLoopBackOff, last exit code 2, 3 restart(s)',
        '    | line 2',
        '    | line 3',
        '    | line 4',
        '    | line 5',
        '    | line 6',
      ],
    ],
    [
      'a crash loop whose last exit left no message: the waiting message',
      [
        pod('w', {
          conditions: notReady,
          containerStatuses: [
            container(
              { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2s' } },
              { restartCount: 1, lastState: { terminated: { exitCode: 1 } } },
            ),
          ],
        }),
      ],
      ['w/webhook: CrashLoopBackOff, last exit code 1, 1 restart(s)', '    | back-off 2s'],
    ],
    [
      'an image the local cluster does not know',
      [
        pod('c', {
          phase: 'Pending',
          conditions: notReady,
          containerStatuses: [
            container({ waiting: { reason: 'ErrImagePull', message: 'not in the table' } }),
          ],
        }),
      ],
      ['c/webhook: ErrImagePull', '    | not in the table'],
    ],
    [
      'a running container whose readiness probe fails',
      [
        pod('r', {
          phase: 'Running',
          conditions: notReady,
          containerStatuses: [container({ running: {} }, { started: true })],
        }),
      ],
      ['r/webhook: running but not ready (its readiness probe fails)'],
    ],
    [
      'a running container still in its startup probe',
      [
        pod('s', {
          phase: 'Running',
          conditions: notReady,
          containerStatuses: [container({ running: {} }, { started: false })],
        }),
      ],
      ['s/webhook: running but not ready (its startup probe fails)'],
    ],
    [
      'a container that exited for good',
      [
        pod('t', {
          phase: 'Failed',
          conditions: notReady,
          containerStatuses: [container({ terminated: { exitCode: 137, reason: 'OOMKilled' } })],
        }),
      ],
      ['t/webhook: terminated (OOMKilled, exit code 137)'],
    ],
    ['a pod with no status yet', [pod('n', { phase: 'Pending' })], ['n: Pending, not ready']],
  ])('%s', (_name, pods, expected) => {
    expect(podProblems(pods)).toEqual(expected);
  });
});

describe('warningEvents', () => {
  const event = (reason: string, type: string, at: number, count = 1): CoreV1Event => ({
    metadata: {},
    involvedObject: { kind: 'ReplicaSet', name: 'ebb-webhook-1' },
    reason,
    type,
    count,
    message: `${reason} message`,
    lastTimestamp: new Date(at),
  });

  it.each<[string, CoreV1Event[], string[]]>([
    ['none', [], []],
    [
      'only warnings',
      [event('Scheduled', 'Normal', 1), event('FailedCreate', 'Warning', 2)],
      ['ReplicaSet/ebb-webhook-1: FailedCreate: FailedCreate message'],
    ],
    [
      'oldest first, with repeat counts',
      [event('B', 'Warning', 5, 4), event('A', 'Warning', 3)],
      ['ReplicaSet/ebb-webhook-1: A: A message', 'ReplicaSet/ebb-webhook-1: B (x4): B message'],
    ],
    [
      'only the latest ten',
      Array.from({ length: 12 }, (_, i) => event(`E${i}`, 'Warning', i)),
      Array.from({ length: 10 }, (_, i) => `ReplicaSet/ebb-webhook-1: E${i + 2}: E${i + 2} message`),
    ],
  ])('%s', (_name, events, expected) => {
    expect(warningEvents(events)).toEqual(expected);
  });
});

describe('crdOwnership', () => {
  const owned = {
    labels: { 'app.kubernetes.io/managed-by': 'Helm' },
    annotations: { 'meta.helm.sh/release-name': 'ebb', 'meta.helm.sh/release-namespace': 'ebb-system' },
  };

  it('leaves a CRD the release already owns', () => {
    expect(crdOwnership(owned)).toEqual({ kind: 'ours' });
  });

  it.each([
    ['applied from crds/ or by chart 0.1.0 (no Helm metadata)', {}],
    ['labelled by kubectl but never by Helm', { labels: { 'app.kubernetes.io/name': 'ebb' } }],
    ['annotated for this release without the managed-by label', { annotations: owned.annotations }],
  ])('adopts a CRD %s with the labels Helm would set', (_why, metadata) => {
    expect(crdOwnership(metadata)).toEqual({ kind: 'adopt', patch: { metadata: owned } });
  });

  it('refuses a CRD that another release owns', () => {
    expect(
      crdOwnership({
        labels: { 'app.kubernetes.io/managed-by': 'Helm' },
        annotations: {
          'meta.helm.sh/release-name': 'knative',
          'meta.helm.sh/release-namespace': 'knative-serving',
        },
      }),
    ).toEqual({ kind: 'foreign', release: 'knative-serving/knative' });
  });
});
