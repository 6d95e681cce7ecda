// The HorizontalPodAutoscaler behind a PodAutoscaler of class hpa.autoscaling.knative.dev
// (Knative's hpa/resources/hpa.go): CPU as average utilization in percent (default 80), memory as
// an average value in MiB (default 100), between min-scale (at least 1) and max-scale.
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { findAnnotation, METRIC_MEMORY } from '../../../apis/autoscaling/register.ts';
import type { PodAutoscaler } from '../../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import type { RevisionScaling } from '../../../autoscaler/target.ts';

const DEFAULT_CPU_PERCENT = 80;
const DEFAULT_MEMORY_MIB = 100;
const MAX_INT32 = 2_147_483_647;

export function makeHPA(
  pa: PodAutoscaler,
  scaling: Pick<RevisionScaling, 'minScale' | 'maxScale'>,
): V2HorizontalPodAutoscaler {
  const annotations = pa.metadata.annotations;
  const metric = findAnnotation(annotations, 'metric')?.value ?? 'cpu';
  const raw = Number(findAnnotation(annotations, 'target')?.value);
  const target = Number.isFinite(raw) && raw > 0 ? Math.ceil(raw) : undefined;
  const spec: V2MetricSpec =
    metric === METRIC_MEMORY
      ? {
          type: 'Resource',
          resource: {
            name: 'memory',
            target: { type: 'AverageValue', averageValue: `${target ?? DEFAULT_MEMORY_MIB}Mi` },
          },
        }
      : {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: target ?? DEFAULT_CPU_PERCENT },
          },
        };
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: pa.metadata.name,
      namespace: pa.metadata.namespace,
      labels: { ...(pa.metadata.labels ?? {}) },
      ownerReferences: [
        {
          apiVersion: pa.apiVersion,
          kind: pa.kind,
          name: pa.metadata.name ?? '',
          uid: pa.metadata.uid ?? '',
          controller: true,
        },
      ],
    },
    spec: {
      scaleTargetRef: {
        apiVersion: pa.spec.scaleTargetRef.apiVersion,
        kind: pa.spec.scaleTargetRef.kind,
        name: pa.spec.scaleTargetRef.name,
      },
      minReplicas: Math.max(1, scaling.minScale),
      maxReplicas: scaling.maxScale > 0 ? scaling.maxScale : MAX_INT32,
      metrics: [spec],
    },
  };
}
