// What is wrong with a Revision's pods, read from its Deployment and pods the way Knative's
// revision reconciler does (reconcile_resources.go reconcileDeployment), returned as values so
// the reconciler only has to mark them. Findings come in Knative's marking order: applied one
// after the other, the last one is what Ready ends up saying.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import {
  CONTAINER_HEALTHY,
  containerExitingMessage,
  deploymentReadiness,
  exitCodeReason,
  REASON_PROGRESS_DEADLINE_EXCEEDED,
  RESOURCES_AVAILABLE,
} from '../../apis/serving/v1/revision-lifecycle.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import { servingContainer } from './resources/serving-container.ts';

export interface RevisionFailure {
  condition: typeof RESOURCES_AVAILABLE | typeof CONTAINER_HEALTHY;
  reason: string;
  message: string;
}

/**
 * Every condition to mark False, in order:
 * 1. the Deployment's own failure (Progressing=False, e.g. ProgressDeadlineExceeded, or
 *    ReplicaFailure=True, e.g. a quota refusing pods) → ResourcesAvailable;
 * 2. only while the Deployment wants pods and has none available, from the first pod (by name)
 *    that shows a problem: PodScheduled=False → ResourcesAvailable with the scheduler's reason;
 *    the serving container's last termination → ContainerHealthy `ExitCode<N>`; or, once the
 *    progress deadline has passed, its waiting reason (ImagePullBackOff...) → ResourcesAvailable.
 */
export function revisionFailures(
  rev: Revision,
  deployment: V1Deployment,
  pods: readonly V1Pod[],
): RevisionFailure[] {
  const failures: RevisionFailure[] = [];
  const readiness = deploymentReadiness(deployment.status);
  if (readiness.status === 'False') {
    failures.push({
      condition: RESOURCES_AVAILABLE,
      reason: readiness.reason ?? '',
      message: readiness.message ?? '',
    });
  }
  // The API server defaults replicas to 1.
  const wanted = deployment.spec?.replicas ?? 1;
  if (wanted <= 0 || (deployment.status?.availableReplicas ?? 0) > 0) return failures;

  const container = servingContainer(rev.spec)?.name ?? '';
  const timedOut = hasTimedOut(deployment);
  const byName = [...pods].sort((a, b) => compare(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  for (const pod of byName) {
    const found = podFailures(pod, container, timedOut);
    if (found.length > 0) return [...failures, ...found];
  }
  return failures;
}

/** The finding the Revision's Ready condition shows (the last one marked), if any. */
export function containerFailure(
  rev: Revision,
  deployment: V1Deployment,
  pods: readonly V1Pod[],
): RevisionFailure | undefined {
  return revisionFailures(rev, deployment, pods).at(-1);
}

function podFailures(pod: V1Pod, container: string, timedOut: boolean): RevisionFailure[] {
  const failures: RevisionFailure[] = [];
  // A pod that cannot be scheduled has no container statuses yet; the scheduler says why.
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled !== undefined) {
    failures.push({
      condition: RESOURCES_AVAILABLE,
      reason: unscheduled.reason ?? '',
      message: unscheduled.message ?? '',
    });
  }
  const status = pod.status?.containerStatuses?.find((s) => s.name === container);
  const terminated = status?.lastState?.terminated;
  const waiting = status?.state?.waiting;
  if (terminated !== undefined) {
    const message = terminated.message ?? '';
    failures.push({
      condition: CONTAINER_HEALTHY,
      reason: exitCodeReason(terminated.exitCode),
      message: containerExitingMessage(
        terminated.exitCode === 0 && message === '' ? 'container exited with no error' : message,
      ),
    });
  } else if (waiting !== undefined && timedOut) {
    // Waiting is normal while an image pulls or a container restarts; it is a failure only once
    // the Deployment has given up making progress.
    failures.push({
      condition: RESOURCES_AVAILABLE,
      reason: waiting.reason ?? '',
      message: waiting.message ?? '',
    });
  }
  return failures;
}

function hasTimedOut(deployment: V1Deployment): boolean {
  return (deployment.status?.conditions ?? []).some(
    (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === REASON_PROGRESS_DEADLINE_EXCEEDED,
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
