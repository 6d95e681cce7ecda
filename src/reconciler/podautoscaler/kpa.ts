// The KPA's PodAutoscaler reconciler (Knative's kpa.go), run by the autoscaler's leader: it takes
// the revision's decider status, applies min/max/initial scale and the scale-to-zero steps, writes
// spec.replicas through the Deployment's scale subresource, and reports desiredScale, actualScale,
// Active and ScaleTargetInitialized. PodAutoscalers of another class are left alone.
import { PatchStrategy, setHeaderOptions, type AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import {
  PA_ACTIVE,
  PA_SCALE_TARGET_INITIALIZED,
  PODAUTOSCALER_CONDITIONS,
  REASON_INITIALIZING,
} from '../../apis/autoscaling/v1alpha1/podautoscaler-lifecycle.ts';
import type {
  PodAutoscaler,
  PodAutoscalerStatus,
} from '../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { KPA_CLASS, type AutoscalerConfig } from '../../apis/config/autoscaler.ts';
import type { MultiScaler } from '../../autoscaler/multiscaler.ts';
import { activeCondition, decideScale } from '../../autoscaler/scale.ts';
import { resolveScaling } from '../../autoscaler/target.ts';
import type { Informer } from '../../controller/informer.ts';
import { PODAUTOSCALERS } from '../../controller/kube.ts';
import type { Logger } from '../../controller/logger.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import { privateServiceName } from '../revision/resources/private-service.ts';
import type { StatusWriter } from '../status.ts';

export interface KpaContext {
  podAutoscalers: Informer<PodAutoscaler>;
  deployments: Informer<V1Deployment>;
  apps: AppsV1Api;
  status: StatusWriter;
  scalers: MultiScaler;
  readyPods: (key: string) => number;
  config: () => { autoscaler: AutoscalerConfig; progressDeadlineMs: number };
  now: () => number;
  log: Logger;
}

export class KpaReconciler {
  private readonly ctx: KpaContext;

  constructor(ctx: KpaContext) {
    this.ctx = ctx;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.ctx.podAutoscalers.get(key);
    if (cached === undefined || cached.metadata.deletionTimestamp != null) {
      this.ctx.scalers.delete(key);
      return undefined;
    }
    const pa = this.ctx.status.fresh(PODAUTOSCALERS, cached);
    const { autoscaler, progressDeadlineMs } = this.ctx.config();
    const scaling = resolveScaling(pa, autoscaler);
    if (scaling.class !== KPA_CLASS) {
      this.ctx.scalers.delete(key);
      return undefined;
    }
    const now = this.ctx.now();
    const namespace = pa.metadata.namespace ?? '';
    const decider = this.ctx.scalers.ensure(key, scaling, now);
    const deployment = this.ctx.deployments.get(`${namespace}/${pa.spec.scaleTargetRef.name}`);
    const ready = this.ctx.readyPods(key);

    const m = PODAUTOSCALER_CONDITIONS.manage(pa.status?.conditions, new Date(now));
    m.initialize();
    const initialized = m.status(PA_SCALE_TARGET_INITIALIZED) === 'True';
    const activeNow = pa.status?.conditions?.find((c) => c.type === PA_ACTIVE);
    const reachable = pa.spec.reachability !== 'Unreachable';
    const decision = decideScale({
      now,
      desiredScale: decider.desiredScale,
      active: {
        status: activeNow?.status ?? 'Unknown',
        since: Date.parse(activeNow?.lastTransitionTime ?? '') || now,
      },
      minScale: scaling.minScale,
      maxScale: scaling.maxScale,
      initialScale: scaling.initialScale,
      reachable,
      scaleTargetInitialized: initialized,
      enableScaleToZero: autoscaler.enableScaleToZero,
      stableWindowMs: scaling.metrics.stableWindowMs,
      scaleToZeroGracePeriodMs: autoscaler.scaleToZeroGracePeriodMs,
      scaleToZeroPodRetentionMs: scaling.scaleToZeroPodRetentionMs,
      progressDeadlineMs,
    });

    if (deployment !== undefined && decision.apply && decision.want >= 0) {
      const current = deployment.spec?.replicas ?? 1;
      if (current !== decision.want) {
        await this.ctx.apps.patchNamespacedDeploymentScale(
          {
            namespace,
            name: pa.spec.scaleTargetRef.name,
            body: [{ op: 'add', path: '/spec/replicas', value: decision.want }],
          },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        );
        this.ctx.log.info(
          { kind: 'PodAutoscaler', namespace, name: pa.metadata.name, from: current, to: decision.want },
          'scaled',
        );
      }
    }

    const outcome = activeCondition({
      want: decision.want,
      readyPods: ready,
      minScale: scaling.minScale,
      initialScale: scaling.initialScale,
      reachable,
      scaleTargetInitialized: initialized,
      current: activeNow?.status,
    });
    if (outcome.markScaleTargetInitialized) m.markTrue(PA_SCALE_TARGET_INITIALIZED);
    else if (!initialized) m.markUnknown(PA_SCALE_TARGET_INITIALIZED, REASON_INITIALIZING, '');
    const a = outcome.active;
    if (a?.status === 'True') m.markTrue(PA_ACTIVE);
    else if (a?.status === 'Unknown') m.markUnknown(PA_ACTIVE, a.reason, a.message);
    else if (a?.status === 'False') m.markFalse(PA_ACTIVE, a.reason, a.message);

    const status: PodAutoscalerStatus = {
      serviceName: privateServiceName(pa),
      actualScale: ready,
      conditions: m.conditions(),
    };
    const desired = decision.want >= 0 ? decision.want : deployment?.spec?.replicas;
    if (desired !== undefined) status.desiredScale = desired;
    await this.ctx.status.write(PODAUTOSCALERS, pa, status);
    return decision.requeueMs === undefined
      ? undefined
      : { requeueAfterMs: Math.max(decision.requeueMs, 100) };
  }
}
