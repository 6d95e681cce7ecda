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
import type { Container } from '../../apis/core/v1.ts';
import { imageRepository } from '../../apis/validation/image-reference.ts';
import type { ContainerStatus, Revision, RevisionStatus } from '../../apis/serving/v1/revision-types.ts';
import { READY } from '../../apis/serving/v1/conditions.ts';
import type { KindEvent } from '../shared/kind-reconciler.ts';
import { revisionFailures } from './container-failure.ts';

/** A child the Revision needs was refused by the API server (ebb's reason, as its events say). */
export const REASON_CREATION_FAILED = 'CreationFailed';

export interface RevisionObservation {
  deployment?: V1Deployment;
  podAutoscaler?: PodAutoscaler;
  pods: readonly V1Pod[];
  /** A child of the wanted name (Deployment, private Service, PodAutoscaler) exists but belongs
   * to someone else. */
  notOwned?: { kind: string; name: string };
  /** The API server refused to create a child: its kind, name and the API server's message. */
  creationFailure?: { kind: string; name: string; message: string };
}

export function revisionStatus(rev: Revision, seen: RevisionObservation, now: Date): RevisionStatus {
  const m = REVISION_CONDITIONS.manage(rev.status?.conditions, now);
  m.initialize();
  const status: RevisionStatus = {};
  const fields = [
    ['containers', 'containerStatuses'],
    ['initContainers', 'initContainerStatuses'],
  ] as const;
  for (const [spec, field] of fields) {
    const list = rev.spec[spec] ?? [];
    if (list.length > 0) status[field] = imageDigests(list, rev.status?.[field], seen.pods, field);
  }
  if (seen.creationFailure !== undefined) {
    const { kind, name, message } = seen.creationFailure;
    m.markFalse(
      RESOURCES_AVAILABLE,
      REASON_CREATION_FAILED,
      `Failed to create ${kind} "${name}": ${message}`,
    );
    status.conditions = m.conditions();
    return status;
  }
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

/**
 * The events a new status tells: a Warning with the reason when the Revision fails (or fails for
 * another reason), RevisionReady when it becomes ready.
 */
export function revisionEvents(before: RevisionStatus | undefined, after: RevisionStatus): KindEvent[] {
  const was = before?.conditions?.find((c) => c.type === READY);
  const now = after.conditions?.find((c) => c.type === READY);
  if (now?.status === 'False' && (was?.status !== 'False' || was.reason !== now.reason))
    return [{ type: 'Warning', reason: now.reason ?? 'Failed', message: now.message ?? '' }];
  if (now?.status === 'True' && was?.status !== 'True')
    return [
      {
        type: 'Normal',
        reason: 'RevisionReady',
        message: 'Revision becomes ready upon all resources being ready',
      },
    ];
  return [];
}

const DIGEST = /sha256:[0-9a-f]{64}/;

/**
 * Each container's imageDigest. An image given by digest is its own. Otherwise Knative asks the
 * registry which digest the tag names; ebb has no registry client, so it records the digest the
 * node reports for the image a Revision's pod runs (the pod status's imageID), once, and keeps it.
 * The Deployment still names the image as the template does.
 */
function imageDigests(
  containers: readonly Container[],
  previous: readonly ContainerStatus[] | undefined,
  pods: readonly V1Pod[],
  field: 'containerStatuses' | 'initContainerStatuses',
): ContainerStatus[] {
  return containers.map((c) => {
    const image = c.image ?? '';
    const name = c.name ?? '';
    if (image.includes('@')) return { name, imageDigest: image };
    const known = previous?.find((p) => p.name === name)?.imageDigest;
    if (known !== undefined && known !== '' && imageRepository(known) === imageRepository(image))
      return { name, imageDigest: known };
    for (const pod of pods) {
      const reported = pod.status?.[field]?.find((s) => s.name === name && s.image === image);
      const digest = DIGEST.exec(reported?.imageID ?? '')?.[0];
      if (digest !== undefined) return { name, imageDigest: `${imageRepository(image)}@${digest}` };
    }
    return { name };
  });
}
