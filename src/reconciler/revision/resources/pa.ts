// Builds the PodAutoscaler that scales a Revision's Deployment (Knative's resources/pa.go). The
// Revision's routing state tells the autoscaler whether traffic can reach the pods.
import type { V1Deployment } from '@kubernetes/client-node';
import { ANNOTATION, METRIC_CONCURRENCY, METRIC_CPU } from '../../../apis/autoscaling/register.ts';
import {
  API_VERSION,
  type PodAutoscaler,
  type PodAutoscalerSpec,
} from '../../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { HPA_CLASS, KPA_CLASS } from '../../../apis/config/autoscaler.ts';
import type { ClusterConfig } from '../../../apis/config/cluster-config.ts';
import { LABELS } from '../../../apis/serving/register.ts';
import { CONTAINER_HEALTHY, RESOURCES_AVAILABLE } from '../../../apis/serving/v1/revision-lifecycle.ts';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';
import { controllerRef, sortedMap } from '../../shared/meta.ts';
import { podAutoscalerAnnotations, revisionChildLabels } from './meta.ts';
import { deploymentName, podAutoscalerName } from './names.ts';
import { protocolType } from './serving-container.ts';

export const ROUTING_STATE_ACTIVE = 'active';
export const ROUTING_STATE_RESERVE = 'reserve';

const CLASS_KEY = ANNOTATION.class[0];
const METRIC_KEY = ANNOTATION.metric[0];

/** `deployment` is the Revision's current Deployment, if any; it only matters after a failure. */
export function makePodAutoscaler(
  rev: Revision,
  cfg: Pick<ClusterConfig, 'autoscaler'>,
  deployment?: V1Deployment,
): PodAutoscaler {
  const annotations = podAutoscalerAnnotations(rev);
  // Knative's PodAutoscaler defaulting: the cluster's class, and that class's usual metric.
  annotations[CLASS_KEY] ??= cfg.autoscaler.podAutoscalerClass;
  annotations[METRIC_KEY] ??= defaultMetric(annotations[CLASS_KEY]);
  return {
    apiVersion: API_VERSION,
    kind: 'PodAutoscaler',
    metadata: {
      name: podAutoscalerName(rev),
      namespace: rev.metadata.namespace,
      labels: revisionChildLabels(rev),
      annotations: sortedMap(annotations),
      ownerReferences: [controllerRef(rev)],
    },
    spec: {
      containerConcurrency: rev.spec.containerConcurrency ?? 0,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName(rev) },
      reachability: reachability(rev, deployment),
      protocolType: protocolType(rev.spec),
    },
  };
}

function defaultMetric(podAutoscalerClass: string): string {
  if (podAutoscalerClass === KPA_CLASS) return METRIC_CONCURRENCY;
  if (podAutoscalerClass === HPA_CLASS) return METRIC_CPU;
  return '';
}

/** Routing state active → Reachable, reserve → Unreachable, otherwise unknown (""). A Revision
 * whose resources or containers failed while its Deployment wants pods but has none ready is
 * Unreachable whatever routes say, so that the autoscaler does not hold it up waiting. */
export function reachability(
  rev: Revision,
  deployment?: V1Deployment,
): NonNullable<PodAutoscalerSpec['reachability']> {
  const failed = (rev.status?.conditions ?? []).some(
    (c) => (c.type === RESOURCES_AVAILABLE || c.type === CONTAINER_HEALTHY) && c.status === 'False',
  );
  const replicas = deployment?.spec?.replicas;
  if (failed && replicas !== undefined && replicas > 0 && (deployment?.status?.readyReplicas ?? 0) === 0) {
    return 'Unreachable';
  }
  switch (rev.metadata.labels?.[LABELS.routingState]) {
    case ROUTING_STATE_ACTIVE:
      return 'Reachable';
    case ROUTING_STATE_RESERVE:
      return 'Unreachable';
    default:
      return '';
  }
}
