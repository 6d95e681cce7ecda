// Revision reconciler: keeps the Revision's Deployment `<rev>-deployment`, private Service
// `<rev>-private` and PodAutoscaler `<rev>` as the builders say (replicas belong to the autoscaler
// once created), and writes the Revision's status from them.
import { isDeepStrictEqual } from 'node:util';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { PodAutoscaler } from '../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { defaultRevision } from '../../apis/serving/v1/defaults.ts';
import type { Revision, RevisionStatus } from '../../apis/serving/v1/revision-types.ts';
import { objectKey } from '../../controller/informer.ts';
import { PODAUTOSCALERS, REVISIONS } from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import type { ReconcilerContext } from '../context.ts';
import { childNeedsUpdate, withOwnedFields } from '../shared/child.ts';
import { KindReconciler, type KindOutcome } from '../shared/kind-reconciler.ts';
import { RecentlyCreated } from '../shared/recently-created.ts';
import { ChildCreationFailed, reconcileChild } from '../shared/reconcile-child.ts';
import { readyStatus } from '../status.ts';
import { deploymentNeedsUpdate, mergeDeployment } from './resources/deployment-update.ts';
import { makeDeployment } from './resources/deployment.ts';
import { makePodAutoscaler } from './resources/pa.ts';
import { makePrivateService } from './resources/private-service.ts';
import { revisionEvents, revisionStatus, type RevisionObservation } from './revision-status.ts';

/** How long after a refused create the Revision tries again. */
const CREATION_RETRY_MS = 30_000;

export class RevisionReconciler {
  private readonly ctx: ReconcilerContext;
  private readonly created = {
    deployments: new RecentlyCreated<V1Deployment>(),
    services: new RecentlyCreated<V1Service>(),
    podAutoscalers: new RecentlyCreated<PodAutoscaler>(),
  };
  private readonly generic: KindReconciler<Revision, RevisionStatus>;

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
    this.generic = new KindReconciler(ctx, {
      kind: REVISIONS,
      cache: ctx.world.revisions,
      reconcileKind: (rev) => this.reconcileKind(rev),
    });
  }

  reconcile(key: string): Promise<ReconcileResult | undefined> {
    return this.generic.reconcile(key);
  }

  private async reconcileKind(rev: Revision): Promise<KindOutcome<RevisionStatus>> {
    let seen: RevisionObservation;
    let childrenCreated: boolean;
    try {
      ({ seen, childrenCreated } = await this.reconcileChildren(rev));
    } catch (error) {
      // The API server refused a child itself (an invalid pod spec, a policy, a quota): that is
      // the Revision's failure to report, with the API server's words, and the cause may be
      // outside the Revision, so it is tried again after a while. Anything else (a timeout, a
      // 5xx) is retried by the work queue.
      if (!(error instanceof ChildCreationFailed) || !error.refused) throw error;
      const creationFailure = { kind: error.noun, name: error.childName, message: error.apiMessage };
      return {
        status: revisionStatus(rev, { pods: [], creationFailure }, this.ctx.now()),
        requeueAfterMs: CREATION_RETRY_MS,
      };
    }
    const status = revisionStatus(rev, seen, this.ctx.now());
    return {
      status,
      progressOnly: readyStatus(status.conditions) === 'Unknown',
      childrenCreated,
      events: revisionEvents(rev.status, status),
    };
  }

  /** The Deployment, then the private Service and the PodAutoscaler; a child someone else owns
   * stops there. */
  private async reconcileChildren(
    rev: Revision,
  ): Promise<{ seen: RevisionObservation; childrenCreated: boolean }> {
    const namespace = rev.metadata.namespace ?? '';
    const config = this.ctx.config();
    const { world } = this.ctx;
    const seen: RevisionObservation = { pods: world.podsByRevision.get(objectKey(rev)) };
    const now = this.ctx.now().getTime();

    // Defaults are idempotent; applying them keeps the Deployment valid where the webhook did not run.
    const desired = makeDeployment({ ...defaultRevision(rev, { config }), status: rev.status }, config);
    const depName = desired.metadata?.name ?? '';
    const depKey = `${namespace}/${depName}`;
    const dep = await reconcileChild(this.ctx, {
      owner: rev,
      noun: 'Deployment',
      key: depKey,
      existing: this.created.deployments.resolve(depKey, world.deployments.get(depKey), now),
      recent: this.created.deployments,
      desired,
      create: (body) => this.ctx.apps.createNamespacedDeployment({ namespace, body }),
      read: () => this.ctx.apps.readNamespacedDeployment({ namespace, name: depName }),
      needsUpdate: deploymentNeedsUpdate,
      merge: mergeDeployment,
      update: (body) => this.ctx.apps.replaceNamespacedDeployment({ namespace, name: depName, body }),
    });
    if (dep.outcome === 'not-owned') {
      seen.notOwned = { kind: 'Deployment', name: depName };
      return { seen, childrenCreated: false };
    }
    seen.deployment = dep.child;

    const wantSvc = makePrivateService(rev);
    const svcName = wantSvc.metadata?.name ?? '';
    const svcKey = `${namespace}/${svcName}`;
    const svc = await reconcileChild(this.ctx, {
      owner: rev,
      noun: 'Service',
      key: svcKey,
      existing: this.created.services.resolve(svcKey, world.privateServices.get(svcKey), now),
      recent: this.created.services,
      desired: wantSvc,
      create: (body) => this.ctx.core.createNamespacedService({ namespace, body }),
      read: () => this.ctx.core.readNamespacedService({ namespace, name: svcName }),
      needsUpdate: privateServiceChanged,
      merge: mergePrivateService,
      update: (body) => this.ctx.core.replaceNamespacedService({ namespace, name: svcName, body }),
    });
    if (svc.outcome === 'not-owned') {
      seen.notOwned = { kind: 'Service', name: svcName };
      return { seen, childrenCreated: dep.outcome === 'created' };
    }

    const wantPA = makePodAutoscaler(rev, config, dep.child);
    const paName = wantPA.metadata.name ?? '';
    const paKey = `${namespace}/${paName}`;
    const pa = await reconcileChild(this.ctx, {
      owner: rev,
      noun: 'PodAutoscaler',
      key: paKey,
      existing: this.created.podAutoscalers.resolve(paKey, world.podAutoscalers.get(paKey), now),
      recent: this.created.podAutoscalers,
      desired: wantPA,
      create: (body) => this.ctx.custom.create(PODAUTOSCALERS, body),
      read: () => this.ctx.custom.get<PodAutoscaler>(PODAUTOSCALERS, namespace, paName),
      needsUpdate: childNeedsUpdate,
      merge: withOwnedFields,
      update: (body) => this.ctx.custom.replace(PODAUTOSCALERS, body),
    });
    if (pa.outcome === 'not-owned') seen.notOwned = { kind: 'PodAutoscaler', name: paName };
    else seen.podAutoscaler = pa.child;
    const childrenCreated = [dep, svc, pa].some((c) => c.outcome === 'created');
    return { seen, childrenCreated };
  }
}

/** The private Service's selector and ports are the Revision's; the rest (clusterIP etc.) is the
 * API server's. */
function privateServiceChanged(have: V1Service, want: V1Service): boolean {
  return (
    !isDeepStrictEqual(have.spec?.selector, want.spec?.selector) ||
    !isDeepStrictEqual(have.spec?.ports, want.spec?.ports)
  );
}

function mergePrivateService(have: V1Service, want: V1Service): V1Service {
  const body = structuredClone(have);
  body.spec ??= {};
  body.spec.selector = want.spec?.selector;
  body.spec.ports = want.spec?.ports;
  return body;
}
