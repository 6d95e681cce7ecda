// Table tests of the Revision → PodAutoscaler builder, including Knative's reachability rules.
import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import type { PodAutoscaler } from '../../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { defaultClusterConfig } from '../../../apis/config/cluster-config.ts';
import type { Condition } from '../../../apis/meta/v1.ts';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';
import { makePodAutoscaler } from './pa.ts';

function revision(): Revision {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Revision',
    metadata: {
      name: 'hello-00001',
      namespace: 'demo',
      uid: 'rev-uid',
      labels: {
        'serving.knative.dev/configuration': 'hello',
        'serving.knative.dev/routingState': 'active',
        'serving.knative.dev/route': 'hello',
      },
      annotations: {
        'autoscaling.knative.dev/min-scale': '1',
        'autoscaling.knative.dev/target': '50',
        'serving.knative.dev/routes': 'hello',
        'serving.knative.dev/routingStateModified': '2026-01-01T00:00:00Z',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
      },
    },
    spec: {
      containerConcurrency: 10,
      containers: [{ name: 'user-container', image: 'ghcr.io/demo/hello:1' }],
    },
  };
}

describe('makePodAutoscaler', () => {
  it('builds the whole PodAutoscaler of a routed Revision', () => {
    const want: PodAutoscaler = {
      apiVersion: 'autoscaling.internal.ebb.dev/v1alpha1',
      kind: 'PodAutoscaler',
      metadata: {
        name: 'hello-00001',
        namespace: 'demo',
        labels: {
          app: 'hello-00001',
          'serving.knative.dev/configuration': 'hello',
          'serving.knative.dev/revision': 'hello-00001',
          'serving.knative.dev/revisionUID': 'rev-uid',
        },
        annotations: {
          'autoscaling.knative.dev/class': 'kpa.autoscaling.knative.dev',
          'autoscaling.knative.dev/metric': 'concurrency',
          'autoscaling.knative.dev/min-scale': '1',
          'autoscaling.knative.dev/target': '50',
        },
        ownerReferences: [
          {
            apiVersion: 'serving.knative.dev/v1',
            kind: 'Revision',
            name: 'hello-00001',
            uid: 'rev-uid',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        containerConcurrency: 10,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello-00001-deployment' },
        reachability: 'Reachable',
        protocolType: 'http1',
      },
    };
    expect(makePodAutoscaler(revision(), defaultClusterConfig())).toStrictEqual(want);
  });

  const annotationCases: [string, Record<string, string>, string, string][] = [
    ['no class: the cluster default, KPA with concurrency', {}, 'kpa.autoscaling.knative.dev', 'concurrency'],
    [
      "the Revision's class, with the HPA's default metric",
      { 'autoscaling.knative.dev/class': 'hpa.autoscaling.knative.dev' },
      'hpa.autoscaling.knative.dev',
      'cpu',
    ],
    [
      "the Revision's metric is kept",
      { 'autoscaling.knative.dev/metric': 'rps' },
      'kpa.autoscaling.knative.dev',
      'rps',
    ],
    [
      'an unknown class gets an empty metric, as in Knative',
      { 'autoscaling.knative.dev/class': 'custom.example.com' },
      'custom.example.com',
      '',
    ],
  ];
  it.each(annotationCases)('%s', (_name, annotations, wantClass, wantMetric) => {
    const rev = revision();
    rev.metadata.annotations = annotations;
    const pa = makePodAutoscaler(rev, defaultClusterConfig());
    expect(pa.metadata.annotations?.['autoscaling.knative.dev/class']).toBe(wantClass);
    expect(pa.metadata.annotations?.['autoscaling.knative.dev/metric']).toBe(wantMetric);
  });

  it('takes the class from config-autoscaler when the Revision names none', () => {
    const cfg = defaultClusterConfig();
    cfg.autoscaler.podAutoscalerClass = 'hpa.autoscaling.knative.dev';
    const pa = makePodAutoscaler(revision(), cfg);
    expect(pa.metadata.annotations?.['autoscaling.knative.dev/class']).toBe('hpa.autoscaling.knative.dev');
  });

  const specCases: [string, (rev: Revision) => void, Partial<PodAutoscaler['spec']>][] = [
    [
      'containerConcurrency defaults to 0',
      (rev) => delete rev.spec.containerConcurrency,
      { containerConcurrency: 0 },
    ],
    [
      'a port named h2c asks for h2c',
      (rev) => {
        const c = rev.spec.containers?.[0];
        if (c) c.ports = [{ name: 'h2c', containerPort: 8080 }];
      },
      { protocolType: 'h2c' },
    ],
    [
      'a port named http1 is http1',
      (rev) => {
        const c = rev.spec.containers?.[0];
        if (c) c.ports = [{ name: 'http1', containerPort: 8080 }];
      },
      { protocolType: 'http1' },
    ],
  ];
  it.each(specCases)('%s', (_name, change, want) => {
    const rev = revision();
    change(rev);
    expect(makePodAutoscaler(rev, defaultClusterConfig()).spec).toMatchObject(want);
  });
});

describe('reachability', () => {
  const failed = (type: string): Condition[] => [{ type, status: 'False', reason: 'ExitCode1' }];
  const deployment = (replicas: number | undefined, ready: number | undefined): V1Deployment => ({
    spec: {
      replicas,
      selector: {},
      template: {},
    },
    status: { readyReplicas: ready },
  });
  const cases: [string, string, string | undefined, Condition[], V1Deployment | undefined][] = [
    ['active', 'Reachable', 'active', [], undefined],
    ['reserve', 'Unreachable', 'reserve', [], undefined],
    ['pending', '', 'pending', [], undefined],
    ['no routing state', '', undefined, [], undefined],
    [
      'failing containers, pods wanted, none ready',
      'Unreachable',
      'active',
      failed('ContainerHealthy'),
      deployment(1, 0),
    ],
    [
      'unavailable resources, readyReplicas unset',
      'Unreachable',
      'active',
      failed('ResourcesAvailable'),
      deployment(2, undefined),
    ],
    ['failing, but a pod is ready', 'Reachable', 'active', failed('ContainerHealthy'), deployment(2, 1)],
    ['failing, scaled to zero', 'Reachable', 'active', failed('ContainerHealthy'), deployment(0, 0)],
    ['failing, no Deployment yet', 'Reachable', 'active', failed('ContainerHealthy'), undefined],
    ['failing, replicas unset', 'Reachable', 'active', failed('ContainerHealthy'), deployment(undefined, 0)],
    ['failing and reserve', 'Unreachable', 'reserve', failed('ContainerHealthy'), deployment(1, 1)],
    ['only Active is False', 'Reachable', 'active', failed('Active'), deployment(1, 0)],
  ];
  it.each(cases)('%s → %j', (_name, want, state, conditions, dep) => {
    const rev = revision();
    rev.metadata.labels = state === undefined ? {} : { 'serving.knative.dev/routingState': state };
    rev.status = { conditions };
    expect(makePodAutoscaler(rev, defaultClusterConfig(), dep).spec.reachability).toBe(want);
  });
});
