// The PodAutoscaler's status from its Deployment. Until ebb's autoscaler (which decides the scale)
// takes over this object, the controller reports what the Deployment shows: the scale asked for
// and reached, whether the initial scale was ever reached, and whether the revision is active.
import type { V1Deployment } from '@kubernetes/client-node';
import {
  NO_TRAFFIC_MESSAGE,
  PA_ACTIVE,
  PA_SCALE_TARGET_INITIALIZED,
  PODAUTOSCALER_CONDITIONS,
  QUEUED_MESSAGE,
  REASON_INITIALIZING,
  REASON_NO_TRAFFIC,
  REASON_QUEUED,
  REASON_TIMED_OUT,
  TIMED_OUT_MESSAGE,
} from '../../apis/autoscaling/v1alpha1/podautoscaler-lifecycle.ts';
import type {
  PodAutoscaler,
  PodAutoscalerStatus,
} from '../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';

export function podAutoscalerStatus(
  pa: PodAutoscaler,
  deployment: V1Deployment | undefined,
  initialScale: number,
  now: Date,
): PodAutoscalerStatus {
  const m = PODAUTOSCALER_CONDITIONS.manage(pa.status?.conditions, now);
  m.initialize();
  const status: PodAutoscalerStatus = { serviceName: pa.metadata.name ?? '' };
  if (deployment === undefined) {
    m.markUnknown(PA_ACTIVE, REASON_QUEUED, QUEUED_MESSAGE);
    status.conditions = m.conditions();
    return status;
  }
  const desired = deployment.spec?.replicas ?? 1;
  const ready = deployment.status?.readyReplicas ?? 0;
  status.desiredScale = desired;
  status.actualScale = ready;

  const initialized = m.status(PA_SCALE_TARGET_INITIALIZED) === 'True';
  if (!initialized) {
    if (ready >= initialScale) m.markTrue(PA_SCALE_TARGET_INITIALIZED);
    else m.markUnknown(PA_SCALE_TARGET_INITIALIZED, REASON_INITIALIZING, '');
  }
  const timedOut = deployment.status?.conditions?.some(
    (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (ready > 0) m.markTrue(PA_ACTIVE);
  else if (m.status(PA_SCALE_TARGET_INITIALIZED) !== 'True' && timedOut === true)
    m.markFalse(PA_ACTIVE, REASON_TIMED_OUT, TIMED_OUT_MESSAGE);
  else if (desired === 0) m.markFalse(PA_ACTIVE, REASON_NO_TRAFFIC, NO_TRAFFIC_MESSAGE);
  else m.markUnknown(PA_ACTIVE, REASON_QUEUED, QUEUED_MESSAGE);
  status.conditions = m.conditions();
  return status;
}
