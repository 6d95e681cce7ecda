// Tests for the Route a Service owns (Knative's MakeRoute): the Service's traffic, with targets that
// name no revision following the Service's Configuration.
import { describe, expect, it } from '@jest/globals';
import { ANNOTATIONS, LABELS } from '../../../apis/serving/register.ts';
import type { TrafficTarget } from '../../../apis/serving/v1/route-types.ts';
import type { Service } from '../../../apis/serving/v1/service-types.ts';
import { LAST_APPLIED } from '../../shared/meta.ts';
import { makeRoute } from './route.ts';

function service(traffic: TrafficTarget[] | undefined, annotations: Record<string, string> = {}): Service {
  const svc: Service = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'hello', namespace: 'default', uid: 'svc-uid', labels: { team: 'a' }, annotations },
    spec: { template: { spec: { containers: [{ image: 'ghcr.io/example/hello:1' }] } } },
  };
  if (traffic !== undefined) svc.spec.traffic = traffic;
  return svc;
}

describe('makeRoute traffic', () => {
  const cases: [string, TrafficTarget[] | undefined, TrafficTarget[]][] = [
    [
      'no traffic block: all traffic to the latest ready revision of the Service’s Configuration',
      undefined,
      [{ latestRevision: true, percent: 100, configurationName: 'hello' }],
    ],
    [
      'latest revision targets follow the Configuration',
      [{ latestRevision: true, percent: 100 }],
      [{ latestRevision: true, percent: 100, configurationName: 'hello' }],
    ],
    [
      'pinned revisions stay pinned and get no configurationName',
      [
        { revisionName: 'hello-00001', latestRevision: false, percent: 80 },
        { latestRevision: true, percent: 20, tag: 'candidate' },
      ],
      [
        { revisionName: 'hello-00001', latestRevision: false, percent: 80 },
        { latestRevision: true, percent: 20, tag: 'candidate', configurationName: 'hello' },
      ],
    ],
    [
      'an empty revisionName counts as none',
      [{ revisionName: '', latestRevision: true, percent: 100 }],
      [{ revisionName: '', latestRevision: true, percent: 100, configurationName: 'hello' }],
    ],
    [
      'tag-only targets keep their tag and have no percent added',
      [
        { latestRevision: true, percent: 100 },
        { revisionName: 'hello-00001', tag: 'old' },
      ],
      [
        { latestRevision: true, percent: 100, configurationName: 'hello' },
        { revisionName: 'hello-00001', tag: 'old' },
      ],
    ],
  ];

  it.each(cases)('%s', (_name, traffic, want) => {
    expect(makeRoute(service(traffic)).spec).toEqual({ traffic: want });
  });

  it('copies the targets, so editing the Route leaves the Service alone', () => {
    const svc = service([{ revisionName: 'hello-00001', percent: 100 }]);
    const route = makeRoute(svc);
    const first = route.spec.traffic?.[0];
    if (first === undefined) throw new Error('traffic lost');
    first.percent = 0;
    expect(svc.spec.traffic?.[0]?.percent).toBe(100);
  });
});

describe('makeRoute metadata', () => {
  it('names the Route after the Service and makes the Service its controller', () => {
    const route = makeRoute(service(undefined));
    expect(route.apiVersion).toBe('serving.knative.dev/v1');
    expect(route.kind).toBe('Route');
    expect(route.metadata.name).toBe('hello');
    expect(route.metadata.namespace).toBe('default');
    expect(route.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        name: 'hello',
        uid: 'svc-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('labels the Route with the Service’s labels and name', () => {
    expect(makeRoute(service(undefined)).metadata.labels).toMatchObject({
      team: 'a',
      [LABELS.service]: 'hello',
    });
  });

  it('copies the Service’s annotations, rollout duration included, except kubectl’s last-applied record', () => {
    const route = makeRoute(
      service(undefined, { [LAST_APPLIED]: '{}', [ANNOTATIONS.rolloutDuration]: '120s', note: 'x' }),
    );
    expect(route.metadata.annotations).toEqual({ [ANNOTATIONS.rolloutDuration]: '120s', note: 'x' });
  });
});
