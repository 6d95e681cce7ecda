// Table tests for the HorizontalPodAutoscaler built for an hpa-class PodAutoscaler.
import { describe, expect, it } from '@jest/globals';
import type { PodAutoscaler } from '../../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { makeHPA } from './hpa.ts';

function pa(annotations: Record<string, string>): PodAutoscaler {
  return {
    apiVersion: 'autoscaling.internal.ebb.dev/v1alpha1',
    kind: 'PodAutoscaler',
    metadata: { name: 'r-00001', namespace: 'ns', uid: 'u1', annotations },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'r-00001-deployment' } },
  };
}

const A = 'autoscaling.knative.dev/';

describe('makeHPA', () => {
  it.each([
    ['cpu by default, 80 %, unbounded', {}, 0, 0, { cpu: 80 }, 1, 2_147_483_647],
    [
      'cpu target from the annotation',
      { [`${A}metric`]: 'cpu', [`${A}target`]: '55.5' },
      2,
      10,
      { cpu: 56 },
      2,
      10,
    ],
    ['memory as MiB', { [`${A}metric`]: 'memory', [`${A}target`]: '200' }, 0, 3, { memory: '200Mi' }, 1, 3],
  ])('%s', (_name, annotations, min, max, target, wantMin, wantMax) => {
    const hpa = makeHPA(pa(annotations), { minScale: min, maxScale: max });
    const resource = hpa.spec.metrics?.[0]?.resource;
    const got =
      resource?.name === 'cpu'
        ? { cpu: resource.target.averageUtilization }
        : { memory: resource?.target.averageValue };
    expect(got).toEqual(target);
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([wantMin, wantMax]);
    expect(hpa.spec.scaleTargetRef.name).toBe('r-00001-deployment');
    expect(hpa.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'PodAutoscaler',
      uid: 'u1',
      controller: true,
    });
  });
});
