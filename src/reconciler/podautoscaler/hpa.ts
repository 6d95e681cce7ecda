// PodAutoscalers of class hpa.autoscaling.knative.dev: ebb keeps a HorizontalPodAutoscaler for
// each (the cluster's HPA controller scales on CPU or memory) and reports its desired scale, the
// ready pods, and Active once a pod is ready.
import type { AutoscalingV2Api } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import {
  PA_ACTIVE,
  PA_SCALE_TARGET_INITIALIZED,
  PODAUTOSCALER_CONDITIONS,
  QUEUED_MESSAGE,
  REASON_INITIALIZING,
  REASON_QUEUED,
} from '../../apis/autoscaling/v1alpha1/podautoscaler-lifecycle.ts';
import type {
  PodAutoscaler,
  PodAutoscalerStatus,
} from '../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import type { RevisionScaling } from '../../autoscaler/target.ts';
import { isNotFound, PODAUTOSCALERS } from '../../controller/kube.ts';
import { privateServiceName } from '../revision/resources/private-service.ts';
import type { StatusWriter } from '../status.ts';
import { makeHPA } from './resources/hpa.ts';

export class HpaReconciler {
  private readonly api: AutoscalingV2Api;
  private readonly status: StatusWriter;

  constructor(api: AutoscalingV2Api, status: StatusWriter) {
    this.api = api;
    this.status = status;
  }

  async reconcile(
    cached: PodAutoscaler,
    scaling: RevisionScaling,
    readyPods: number,
    now: number,
  ): Promise<void> {
    const pa = this.status.fresh(PODAUTOSCALERS, cached);
    const namespace = pa.metadata.namespace ?? '';
    const name = pa.metadata.name ?? '';
    const want = makeHPA(pa, scaling);
    let have;
    try {
      have = await this.api.readNamespacedHorizontalPodAutoscaler({ namespace, name });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (have === undefined)
      have = await this.api.createNamespacedHorizontalPodAutoscaler({ namespace, body: want });
    else if (
      !isDeepStrictEqual(JSON.parse(JSON.stringify(have.spec)), JSON.parse(JSON.stringify(want.spec)))
    ) {
      have.spec = want.spec;
      have = await this.api.replaceNamespacedHorizontalPodAutoscaler({ namespace, name, body: have });
    }

    const m = PODAUTOSCALER_CONDITIONS.manage(pa.status?.conditions, new Date(now));
    m.initialize();
    if (readyPods > 0) {
      m.markTrue(PA_SCALE_TARGET_INITIALIZED);
      m.markTrue(PA_ACTIVE);
    } else {
      if (m.status(PA_SCALE_TARGET_INITIALIZED) !== 'True')
        m.markUnknown(PA_SCALE_TARGET_INITIALIZED, REASON_INITIALIZING, '');
      m.markUnknown(PA_ACTIVE, REASON_QUEUED, QUEUED_MESSAGE);
    }
    const status: PodAutoscalerStatus = {
      serviceName: privateServiceName(pa),
      actualScale: readyPods,
      conditions: m.conditions(),
    };
    const desired = have.status?.desiredReplicas;
    if (desired !== undefined) status.desiredScale = desired;
    await this.status.write(PODAUTOSCALERS, pa, status);
  }
}
