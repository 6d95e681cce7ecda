// Revision reconciler: keeps the Revision's Deployment `<rev>-deployment` and PodAutoscaler
// `<rev>` as the builders say (replicas belong to the autoscaler once created), and writes the
// Revision's status from them.
import { isDeepStrictEqual } from 'node:util';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { PodAutoscaler } from '../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { defaultRevision } from '../../apis/serving/v1/defaults.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import {
  PODAUTOSCALERS,
  REVISIONS,
  apiMessage,
  errorCode,
  isConflict,
  isNamespaceTerminating,
} from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import type { ReconcilerContext } from '../context.ts';
import { childNeedsUpdate, withOwnedFields } from '../shared/child.ts';
import { isControlledBy } from '../shared/meta.ts';
import { RecentlyCreated } from '../shared/recently-created.ts';
import { deploymentNeedsUpdate, mergeDeployment } from './resources/deployment-update.ts';
import { makeDeployment } from './resources/deployment.ts';
import { makePodAutoscaler } from './resources/pa.ts';
import { makePrivateService } from './resources/private-service.ts';
import { readyStatus } from '../status.ts';
import { REASON_CREATION_FAILED, revisionStatus, type RevisionObservation } from './revision-status.ts';

/** How long after a refused create the Revision tries again. */
const CREATION_RETRY_MS = 30_000;

export class RevisionReconciler {
  private readonly ctx: ReconcilerContext;
  private readonly created = {
    deployments: new RecentlyCreated<V1Deployment>(),
    services: new RecentlyCreated<V1Service>(),
    podAutoscalers: new RecentlyCreated<PodAutoscaler>(),
  };

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.ctx.world.revisions.get(key);
    if (cached === undefined || cached.metadata.deletionTimestamp != null) return undefined;
    const rev = this.ctx.status.fresh(REVISIONS, cached);
    const namespace = rev.metadata.namespace ?? '';
    const config = this.ctx.config();
    const seen: RevisionObservation = { pods: this.ctx.world.podsByRevision.get(key) };

    // Defaults are idempotent; applying them keeps the Deployment valid where the webhook did not run.
    const desired = makeDeployment({ ...defaultRevision(rev, { config }), status: rev.status }, config);
    const depName = desired.metadata?.name ?? '';
    const depKey = `${namespace}/${depName}`;
    const now = this.ctx.now().getTime();
    let deployment = this.created.deployments.resolve(depKey, this.ctx.world.deployments.get(depKey), now);
    let created = false;
    if (deployment === undefined) {
      try {
        deployment = await this.create(
          () => this.ctx.apps.createNamespacedDeployment({ namespace, body: desired }),
          () => this.ctx.apps.readNamespacedDeployment({ namespace, name: depName }),
        );
      } catch (error) {
        // The API server refused the Deployment itself (an invalid pod spec, a policy, a quota):
        // that is the Revision's failure to report, not a hiccup to retry blindly. Anything else
        // (a timeout, a 5xx) is retried by the work queue.
        const code = errorCode(error) ?? 0;
        if (code < 400 || code >= 500 || isNamespaceTerminating(error)) throw error;
        return await this.reportCreationFailure(rev, 'Deployment', depName, apiMessage(error));
      }
      created = true;
      this.created.deployments.remember(depKey, deployment, now);
      this.ctx.log.info({ kind: 'Revision', namespace, name: rev.metadata.name }, 'created deployment');
    } else if (!isControlledBy(deployment, rev)) {
      seen.notOwned = { kind: 'Deployment', name: depName };
    } else if (deploymentNeedsUpdate(deployment, desired)) {
      deployment = await this.ctx.apps.replaceNamespacedDeployment({
        namespace,
        name: depName,
        body: mergeDeployment(deployment, desired),
      });
    }
    seen.deployment = seen.notOwned === undefined ? deployment : undefined;

    if (seen.notOwned === undefined && (await this.reconcilePrivateService(rev))) created = true;

    if (seen.notOwned === undefined) {
      const wantPA = makePodAutoscaler(rev, config, deployment);
      const paName = wantPA.metadata.name ?? '';
      const paKey = `${namespace}/${paName}`;
      let pa = this.created.podAutoscalers.resolve(paKey, this.ctx.world.podAutoscalers.get(paKey), now);
      if (pa === undefined) {
        created = true;
        pa = await this.create(
          () => this.ctx.custom.create(PODAUTOSCALERS, wantPA),
          () => this.ctx.custom.get<PodAutoscaler>(PODAUTOSCALERS, namespace, paName),
        );
        this.created.podAutoscalers.remember(paKey, pa, now);
      } else if (!isControlledBy(pa, rev)) {
        seen.notOwned = { kind: 'PodAutoscaler', name: paName };
      } else if (childNeedsUpdate(pa, wantPA)) {
        pa = await this.ctx.custom.replace(PODAUTOSCALERS, withOwnedFields(pa, wantPA));
      }
      if (seen.notOwned === undefined) seen.podAutoscaler = pa;
    }

    // A new Revision's children, just created, report nothing yet; their ADDED events bring it back
    // within the coalescing delay, and the status written then has something to say.
    if (created && rev.status?.observedGeneration !== rev.metadata.generation) return undefined;
    const before = rev.status?.conditions?.find((c) => c.type === 'Ready');
    const status = revisionStatus(rev, seen, this.ctx.now());
    const { written, retryAfterMs } = await this.ctx.status.write(REVISIONS, rev, status, {
      progressOnly: readyStatus(status.conditions) === 'Unknown',
    });
    if (retryAfterMs !== undefined) return { requeueAfterMs: retryAfterMs };
    if (written) {
      const after = status.conditions?.find((c) => c.type === 'Ready');
      if (after?.status === 'False' && (before?.status !== 'False' || before.reason !== after.reason))
        this.ctx.events.event(rev, 'Warning', after.reason ?? 'Failed', after.message ?? '');
      if (after?.status === 'True' && before?.status !== 'True')
        this.ctx.events.event(
          rev,
          'Normal',
          'RevisionReady',
          'Revision becomes ready upon all resources being ready',
        );
    }
    return undefined;
  }

  /**
   * Ready=False with the API server's words, and a Warning event, when a child the Revision needs
   * cannot be created. The cause may be outside the Revision (a quota, an admission policy), so
   * it is tried again after a while.
   */
  private async reportCreationFailure(
    rev: Revision,
    kind: string,
    name: string,
    message: string,
  ): Promise<ReconcileResult> {
    const status = revisionStatus(
      rev,
      { pods: [], creationFailure: { kind, name, message } },
      this.ctx.now(),
    );
    const before = rev.status?.conditions?.find((c) => c.type === 'Ready');
    const { written } = await this.ctx.status.write(REVISIONS, rev, status);
    const after = status.conditions?.find((c) => c.type === 'Ready');
    if (written && (before?.status !== after?.status || before?.message !== after?.message))
      this.ctx.events.event(rev, 'Warning', REASON_CREATION_FAILED, after?.message ?? message);
    return { requeueAfterMs: CREATION_RETRY_MS };
  }

  /** Creates `<rev>-private` when missing (then true); puts back its selector and ports if someone
   * changed them. */
  private async reconcilePrivateService(rev: Revision): Promise<boolean> {
    const namespace = rev.metadata.namespace ?? '';
    const want = makePrivateService(rev);
    const name = want.metadata?.name ?? '';
    const key = `${namespace}/${name}`;
    const now = this.ctx.now().getTime();
    const have = this.created.services.resolve(key, this.ctx.world.privateServices.get(key), now);
    if (have === undefined) {
      const svc = await this.create(
        () => this.ctx.core.createNamespacedService({ namespace, body: want }),
        () => this.ctx.core.readNamespacedService({ namespace, name }),
      );
      this.created.services.remember(key, svc, now);
      return true;
    }
    if (!isControlledBy(have, rev)) return false;
    const spec = have.spec ?? {};
    const wantSpec = want.spec ?? {};
    if (isDeepStrictEqual(spec.selector, wantSpec.selector) && isDeepStrictEqual(spec.ports, wantSpec.ports))
      return false;
    const body = structuredClone(have);
    body.spec ??= {};
    body.spec.selector = wantSpec.selector;
    body.spec.ports = wantSpec.ports;
    await this.ctx.core.replaceNamespacedService({ namespace, name, body });
    return false;
  }

  /** Creates, or on AlreadyExists (a create lost in a crash, a stale cache) reads what is there. */
  private async create<T extends V1Deployment | V1Service | PodAutoscaler>(
    create: () => Promise<T>,
    read: () => Promise<T>,
  ): Promise<T> {
    try {
      return await create();
    } catch (error) {
      if (!isConflict(error)) throw error;
      return await read();
    }
  }
}
