// Configuration reconciler: stamps out one Revision per generation of the template (never two:
// the name is derived from the generation, so a create after a crash meets AlreadyExists) and
// tracks the latest created and latest ready Revisions.
import { deepEqual } from '../../apis/object-diff.ts';
import { LABELS } from '../../apis/serving/register.ts';
import type { Configuration, ConfigurationStatus } from '../../apis/serving/v1/configuration-types.ts';
import { defaultConfiguration } from '../../apis/serving/v1/defaults.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import { objectKey } from '../../controller/informer.ts';
import { CONFIGURATIONS, REVISIONS } from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import type { ReconcilerContext } from '../context.ts';
import { collectRevisions } from '../gc/gc.ts';
import { KindReconciler, type KindOutcome } from '../shared/kind-reconciler.ts';
import { isControlledBy } from '../shared/meta.ts';
import { RecentlyCreated } from '../shared/recently-created.ts';
import { ChildCreationFailed, reconcileChild } from '../shared/reconcile-child.ts';
import { readyStatus } from '../status.ts';
import { configurationStatus, type ConfigurationObservation } from './configuration-status.ts';
import { makeRevision, revisionLabels, revisionName } from './resources/revision.ts';

export class ConfigurationReconciler {
  private readonly ctx: ReconcilerContext;
  private readonly created = new RecentlyCreated<Revision>();
  private readonly generic: KindReconciler<Configuration, ConfigurationStatus>;

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
    this.generic = new KindReconciler(ctx, {
      kind: CONFIGURATIONS,
      cache: ctx.world.configurations,
      reconcileKind: (cfg) => this.reconcileKind(cfg),
    });
  }

  reconcile(key: string): Promise<ReconcileResult | undefined> {
    return this.generic.reconcile(key);
  }

  private async reconcileKind(stored: Configuration): Promise<KindOutcome<ConfigurationStatus>> {
    // Defaults are idempotent: applying them here keeps Revisions right even where the webhook
    // did not run (e.g. `npm run dev:controller` without it).
    const cfg = { ...defaultConfiguration(stored, { config: this.ctx.config() }), status: stored.status };
    const namespace = cfg.metadata.namespace ?? '';
    const name = revisionName(cfg);
    const { world } = this.ctx;
    const seen: ConfigurationObservation = {
      revisions: world.revisionsByConfiguration.get(objectKey(cfg)).filter((r) => isControlledBy(r, cfg)),
    };

    const revKey = `${namespace}/${name}`;
    const generation = String(cfg.metadata.generation ?? 0);
    const labels = revisionLabels(cfg);
    let created = false;
    try {
      // Knative keeps the Configuration's labels on the Revision of its generation current, e.g.
      // after a Service rename of labels; a Revision's spec never changes.
      const rev = await reconcileChild(this.ctx, {
        owner: cfg,
        noun: 'Revision',
        key: revKey,
        existing: this.created.resolve(revKey, world.revisions.get(revKey), this.ctx.now().getTime()),
        recent: this.created,
        desired: makeRevision(cfg, this.ctx.now()),
        create: (body) => this.ctx.custom.create(REVISIONS, body),
        read: () => this.ctx.custom.get<Revision>(REVISIONS, namespace, name),
        needsUpdate: (have) =>
          have.metadata.labels?.[LABELS.configurationGeneration] === generation &&
          Object.entries(labels).some(([k, v]) => have.metadata.labels?.[k] !== v),
        merge: (have) => ({
          ...have,
          metadata: { ...have.metadata, labels: { ...have.metadata.labels, ...labels } },
        }),
        update: (body) => this.ctx.custom.replace(REVISIONS, body),
      });
      created = rev.outcome === 'created';
      const sameTemplate =
        rev.child.metadata.labels?.[LABELS.configurationGeneration] === generation ||
        deepEqual(rev.child.spec, cfg.spec.template.spec ?? {});
      if (rev.outcome === 'not-owned' || !sameTemplate)
        seen.creationFailure = `revision ${JSON.stringify(name)} already exists and was not created from this template`;
      else seen.latestCreated = rev.child;
    } catch (error) {
      // As Knative: a Revision the API server will not create is the Configuration's failure.
      if (!(error instanceof ChildCreationFailed)) throw error;
      seen.creationFailure = error.apiMessage;
    }

    const { status, events } = configurationStatus(cfg, seen, this.ctx.now());
    // Routes follow latestReadyRevisionName; a Service whose template names its Revision routes to
    // it once latestCreatedRevisionName says it exists. Neither change is held back.
    const progressOnly =
      readyStatus(status.conditions) === 'Unknown' &&
      status.latestReadyRevisionName === stored.status?.latestReadyRevisionName &&
      (cfg.spec.template.metadata?.name === undefined ||
        status.latestCreatedRevisionName === stored.status?.latestCreatedRevisionName);
    await collectRevisions(this.ctx, stored, status);
    return { status, progressOnly, childrenCreated: created, events };
  }
}
