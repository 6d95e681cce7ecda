// Configuration reconciler: stamps out one Revision per generation of the template (never two:
// the name is derived from the generation, so a create after a crash meets AlreadyExists) and
// tracks the latest created and latest ready Revisions.
import { deepEqual } from '../../apis/object-diff.ts';
import { LABELS } from '../../apis/serving/register.ts';
import { defaultConfiguration } from '../../apis/serving/v1/defaults.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import {
  CONFIGURATIONS,
  REVISIONS,
  apiMessage,
  isConflict,
  isNamespaceTerminating,
} from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import type { ReconcilerContext } from '../context.ts';
import { collectRevisions } from '../gc/gc.ts';
import { isControlledBy } from '../shared/meta.ts';
import { RecentlyCreated } from '../shared/recently-created.ts';
import { readyStatus } from '../status.ts';
import { configurationStatus, type ConfigurationObservation } from './configuration-status.ts';
import { makeRevision, revisionLabels, revisionName } from './resources/revision.ts';

export class ConfigurationReconciler {
  private readonly ctx: ReconcilerContext;
  private readonly created = new RecentlyCreated<Revision>();

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.ctx.world.configurations.get(key);
    if (cached === undefined || cached.metadata.deletionTimestamp != null) return undefined;
    const stored = this.ctx.status.fresh(CONFIGURATIONS, cached);
    // Defaults are idempotent: applying them here keeps Revisions right even where the webhook
    // did not run (e.g. `npm run dev:controller` without it).
    const cfg = { ...defaultConfiguration(stored, { config: this.ctx.config() }), status: stored.status };
    const namespace = cfg.metadata.namespace ?? '';
    const log = this.ctx.log.child({ kind: 'Configuration', namespace, name: cfg.metadata.name });
    const name = revisionName(cfg);
    const seen: ConfigurationObservation = {
      revisions: this.ctx.world.revisionsByConfiguration.get(key).filter((r) => isControlledBy(r, cfg)),
    };

    const revKey = `${namespace}/${name}`;
    const now = this.ctx.now().getTime();
    let rev = this.created.resolve(revKey, this.ctx.world.revisions.get(revKey), now);
    let created = false;
    if (rev === undefined) {
      // The cache may lag behind a create of ours (e.g. before a restart): AlreadyExists then
      // reads what is there, so a generation never gets two Revisions.
      try {
        rev = await this.ctx.custom.create(REVISIONS, makeRevision(cfg, this.ctx.now()));
        this.created.remember(revKey, rev, now);
        created = true;
        log.info({ revision: name }, 'created revision');
        this.ctx.events.event(cfg, 'Normal', 'Created', `Created Revision ${JSON.stringify(name)}`);
      } catch (error) {
        if (isConflict(error)) rev = await this.ctx.custom.get<Revision>(REVISIONS, namespace, name);
        else if (isNamespaceTerminating(error)) throw error;
        else seen.creationFailure = apiMessage(error);
      }
    }
    if (rev === undefined && seen.creationFailure !== undefined)
      this.ctx.events.event(
        cfg,
        'Warning',
        'CreationFailed',
        `Failed to create Revision: ${seen.creationFailure}`,
      );
    if (rev !== undefined) {
      const generation = rev.metadata.labels?.[LABELS.configurationGeneration];
      const sameTemplate =
        generation === String(cfg.metadata.generation ?? 0) ||
        deepEqual(rev.spec, cfg.spec.template.spec ?? {});
      if (!isControlledBy(rev, cfg) || !sameTemplate) {
        seen.creationFailure = `revision ${JSON.stringify(name)} already exists and was not created from this template`;
      } else {
        if (generation === String(cfg.metadata.generation ?? 0))
          rev = await this.relabel(rev, revisionLabels(cfg));
        seen.latestCreated = rev;
      }
    }

    // A new generation's Revision, just created, reports nothing yet; its ADDED event brings this
    // Configuration back within the coalescing delay, and the status written then says as much.
    if (created && stored.status?.observedGeneration !== stored.metadata.generation) return undefined;
    const { status, events } = configurationStatus(cfg, seen, this.ctx.now());
    // Routes follow latestReadyRevisionName; a Service whose template names its Revision routes to
    // it once latestCreatedRevisionName says it exists. Neither change is held back.
    const progressOnly =
      readyStatus(status.conditions) === 'Unknown' &&
      status.latestReadyRevisionName === stored.status?.latestReadyRevisionName &&
      (cfg.spec.template.metadata?.name === undefined ||
        status.latestCreatedRevisionName === stored.status?.latestCreatedRevisionName);
    const { written, retryAfterMs } = await this.ctx.status.write(CONFIGURATIONS, stored, status, {
      progressOnly,
    });
    if (written) for (const e of events) this.ctx.events.event(cfg, e.type, e.reason, e.message);
    await collectRevisions(this.ctx, stored, status);
    return retryAfterMs === undefined ? undefined : { requeueAfterMs: retryAfterMs };
  }

  /** Knative keeps the Configuration's labels on its Revisions current, e.g. after a Service rename of labels. */
  private async relabel(rev: Revision, labels: Record<string, string>): Promise<Revision> {
    const current = rev.metadata.labels ?? {};
    if (Object.entries(labels).every(([k, v]) => current[k] === v)) return rev;
    return await this.ctx.custom.replace(REVISIONS, {
      ...rev,
      metadata: { ...rev.metadata, labels: { ...current, ...labels } },
    });
  }
}
