// The Revision's status from its Deployment, Pods and PodAutoscaler (Knative's revision
// reconciler): availability from the Deployment, container failures from the Pods, activity and
// replica counts from the PodAutoscaler.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { PodAutoscaler } from '../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import {
  REASON_NOT_OWNED,
  RESOURCES_AVAILABLE,
  REVISION_CONDITIONS,
  notOwnedMessage,
  propagateAutoscalerStatus,
  propagateDeploymentStatus,
} from '../../apis/serving/v1/revision-lifecycle.ts';
import type { Revision, RevisionStatus } from '../../apis/serving/v1/revision-types.ts';
import { revisionFailures } from './container-failure.ts';

export interface RevisionObservation {
  deployment?: V1Deployment;
  podAutoscaler?: PodAutoscaler;
  pods: readonly V1Pod[];
  /** A Deployment or PodAutoscaler of the wanted name exists but belongs to someone else. */
  notOwned?: { kind: string; name: string };
}

export function revisionStatus(rev: Revision, seen: RevisionObservation, now: Date): RevisionStatus {
  const m = REVISION_CONDITIONS.manage(rev.status?.conditions, now);
  m.initialize();
  const status: RevisionStatus = {};
  const containers = [...(rev.spec.containers ?? [])];
  if (containers.length > 0)
    status.containerStatuses = containers.map((c) => {
      const at = (c.image ?? '').indexOf('@');
      return at === -1 ? { name: c.name } : { name: c.name, imageDigest: c.image };
    });
  if (seen.notOwned !== undefined) {
    m.markFalse(
      RESOURCES_AVAILABLE,
      REASON_NOT_OWNED,
      notOwnedMessage(seen.notOwned.kind, seen.notOwned.name),
    );
    status.conditions = m.conditions();
    return status;
  }
  if (seen.deployment !== undefined) {
    propagateDeploymentStatus(m, seen.deployment.status);
    for (const f of revisionFailures(rev, seen.deployment, seen.pods))
      m.markFalse(f.condition, f.reason, f.message);
  }
  Object.assign(status, propagateAutoscalerStatus(m, seen.podAutoscaler?.status));
  status.conditions = m.conditions();
  return status;
}
