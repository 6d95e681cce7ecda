// The Revision's condition set and how the Deployment and PodAutoscaler statuses map onto it,
// following Knative's revision_lifecycle.go. Active is tracked but does not feed Ready: a Revision
// scaled to zero is still Ready.
import type { V1DeploymentStatus } from '@kubernetes/client-node';
import {
  PA_SCALE_TARGET_INITIALIZED,
  REASON_TIMED_OUT,
} from '../../autoscaling/v1alpha1/podautoscaler-lifecycle.ts';
import type { PodAutoscalerStatus } from '../../autoscaling/v1alpha1/podautoscaler-types.ts';
import { ConditionSet, READY, type ConditionManager } from './conditions.ts';
import type { RevisionStatus } from './revision-types.ts';

export const RESOURCES_AVAILABLE = 'ResourcesAvailable';
export const CONTAINER_HEALTHY = 'ContainerHealthy';
export const ACTIVE = 'Active';

export const REASON_DEPLOYING = 'Deploying';
export const REASON_PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';
export const REASON_NOT_OWNED = 'NotOwned';
export const REASON_CONTAINER_MISSING = 'ContainerMissing';

export const REVISION_CONDITIONS = new ConditionSet([RESOURCES_AVAILABLE, CONTAINER_HEALTHY]);

const DEPLOYMENT_CONDITIONS = new ConditionSet(['Progressing', 'ReplicaSetReady']);
const EPOCH = new Date(0);

export function exitCodeReason(exitCode: number): string {
  return `ExitCode${String(exitCode)}`;
}

export function containerExitingMessage(message: string): string {
  return `Container failed with: ${message}`;
}

export function containerMissingMessage(image: string, message: string): string {
  return `Unable to fetch image ${JSON.stringify(image)}: ${message}`;
}

export function notOwnedMessage(kind: string, name: string): string {
  return `There is an existing ${kind} ${JSON.stringify(name)} that we do not own.`;
}

/** Knative's view of a Deployment: Ready from Progressing and the inverse of ReplicaFailure. */
export function deploymentReadiness(status: V1DeploymentStatus | undefined): {
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
} {
  const m = DEPLOYMENT_CONDITIONS.manage([], EPOCH);
  m.initialize();
  m.markTrue('ReplicaSetReady');
  m.markUnknown('Progressing', REASON_DEPLOYING, '');
  const conds = status?.conditions ?? [];
  for (const c of conds.filter((c) => c.type === 'Progressing')) {
    if (c.status === 'True') m.markTrue('Progressing');
    else if (c.status === 'False') m.markFalse('Progressing', c.reason ?? '', c.message ?? '');
    else m.markUnknown('Progressing', c.reason ?? '', c.message ?? '');
  }
  for (const c of conds.filter((c) => c.type === 'ReplicaFailure')) {
    if (c.status === 'True') m.markFalse('ReplicaSetReady', c.reason ?? '', c.message ?? '');
    else if (c.status === 'False') m.markTrue('ReplicaSetReady');
    else m.markUnknown('ReplicaSetReady', c.reason ?? '', c.message ?? '');
  }
  const ready = m.get(READY);
  return { status: ready?.status ?? 'Unknown', reason: ready?.reason, message: ready?.message };
}

export function propagateDeploymentStatus(m: ConditionManager, status: V1DeploymentStatus | undefined): void {
  const ready = deploymentReadiness(status);
  if (ready.status === 'True') m.markTrue(RESOURCES_AVAILABLE);
  else if (ready.status === 'False')
    m.markFalse(RESOURCES_AVAILABLE, ready.reason ?? '', ready.message ?? '');
  else m.markUnknown(RESOURCES_AVAILABLE, ready.reason ?? '', ready.message ?? '');
}

/** Reflects the PodAutoscaler in the Revision: replicas, Active, and availability once the scale
 * target was first reached. Returns the replica fields to store. */
export function propagateAutoscalerStatus(
  m: ConditionManager,
  pa: PodAutoscalerStatus | undefined,
): Pick<RevisionStatus, 'actualReplicas' | 'desiredReplicas'> {
  const unavailable = m.status(RESOURCES_AVAILABLE) === 'False' || m.status(CONTAINER_HEALTHY) === 'False';
  const replicas: Pick<RevisionStatus, 'actualReplicas' | 'desiredReplicas'> = {};
  if (pa?.actualScale !== undefined && pa.actualScale >= 0) replicas.actualReplicas = pa.actualScale;
  if (pa?.desiredScale !== undefined && pa.desiredScale >= 0) replicas.desiredReplicas = pa.desiredScale;

  const ready = pa?.conditions?.find((c) => c.type === READY);
  if (pa === undefined || ready === undefined) {
    m.markUnknown(ACTIVE, REASON_DEPLOYING, '');
    if (!unavailable) m.markUnknown(RESOURCES_AVAILABLE, REASON_DEPLOYING, '');
    return replicas;
  }
  const initialized = pa.conditions?.find((c) => c.type === PA_SCALE_TARGET_INITIALIZED)?.status === 'True';
  if (initialized && !unavailable) {
    m.markTrue(RESOURCES_AVAILABLE);
    m.markTrue(CONTAINER_HEALTHY);
  }
  if (m.status(RESOURCES_AVAILABLE) === 'True' && ((pa.serviceName ?? '') === '' || !initialized))
    m.markUnknown(RESOURCES_AVAILABLE, REASON_DEPLOYING, '');

  if (ready.status === 'Unknown') m.markUnknown(ACTIVE, ready.reason ?? '', ready.message ?? '');
  else if (ready.status === 'False') {
    if (!initialized && !unavailable && (pa.serviceName ?? '') !== '' && ready.reason === REASON_TIMED_OUT)
      m.markFalse(RESOURCES_AVAILABLE, REASON_PROGRESS_DEADLINE_EXCEEDED, 'Initial scale was never achieved');
    m.markFalse(ACTIVE, ready.reason ?? '', ready.message ?? '');
  } else m.markTrue(ACTIVE);
  return replicas;
}
