// PodAutoscaler reconciler (interim): reports the scale target's state on the PodAutoscaler until
// ebb's autoscaler, which will decide the scale, owns this object.
import { LABELS } from '../../apis/serving/register.ts';
import { PODAUTOSCALERS } from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import type { ReconcilerContext } from '../context.ts';
import { initialScale } from '../revision/resources/deployment.ts';
import { podAutoscalerStatus } from './podautoscaler-status.ts';

export class PodAutoscalerReconciler {
  private readonly ctx: ReconcilerContext;

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.ctx.world.podAutoscalers.get(key);
    if (cached === undefined || cached.metadata.deletionTimestamp != null) return undefined;
    const pa = this.ctx.status.fresh(PODAUTOSCALERS, cached);
    const namespace = pa.metadata.namespace ?? '';
    const deployment = this.ctx.world.deployments.get(`${namespace}/${pa.spec.scaleTargetRef.name}`);
    const rev = this.ctx.world.revisions.get(`${namespace}/${pa.metadata.labels?.[LABELS.revision] ?? ''}`);
    const initial = rev === undefined ? 1 : initialScale(rev, this.ctx.config());
    await this.ctx.status.write(
      PODAUTOSCALERS,
      pa,
      podAutoscalerStatus(pa, deployment, initial, this.ctx.now()),
    );
    return undefined;
  }
}
