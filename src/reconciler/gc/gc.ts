// Revision garbage collection per config-gc. As in Knative, each Configuration reconcile collects
// its own Revisions, so a Revision that falls out of its Routes goes as soon as the limits say; a
// sweep once a minute catches Revisions that only aged past a retain time. The decision is
// revisionsToCollect's (pure); this only deletes and reports.
import type { Configuration, ConfigurationStatus } from '../../apis/serving/v1/configuration-types.ts';
import { REVISIONS, isNotFound } from '../../controller/kube.ts';
import { objectKey } from '../../controller/informer.ts';
import type { ReconcilerContext } from '../context.ts';
import { isControlledBy } from '../shared/meta.ts';
import { revisionsToCollect } from './collect.ts';

const SWEEP_MS = 60_000;

/** Deletes the Revisions of `cfg` that config-gc says to collect; `status` is its latest status. */
export async function collectRevisions(
  ctx: ReconcilerContext,
  cfg: Configuration,
  status: ConfigurationStatus | undefined,
): Promise<void> {
  const revisions = ctx.world.revisionsByConfiguration
    .get(objectKey(cfg))
    .filter((r) => isControlledBy(r, cfg) && r.metadata.deletionTimestamp == null);
  const doomed = revisionsToCollect({
    configuration: status ?? {},
    revisions,
    gc: ctx.config().gc,
    now: ctx.now(),
  });
  const namespace = cfg.metadata.namespace ?? '';
  for (const { name, reason } of doomed) {
    try {
      await ctx.custom.delete(REVISIONS, namespace, name);
      ctx.log.info({ kind: 'Revision', namespace, name, reason }, 'garbage-collected revision');
      ctx.events.event(
        cfg,
        'Normal',
        'RevisionCollected',
        `Deleted Revision ${JSON.stringify(name)}: ${reason}`,
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/** The once-a-minute sweep over every Configuration, for retain times that simply ran out. */
export class GarbageCollector {
  private readonly ctx: ReconcilerContext;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const cfg of this.ctx.world.configurations.list()) {
        try {
          await collectRevisions(this.ctx, cfg, cfg.status);
        } catch (error) {
          const { namespace, name } = cfg.metadata;
          this.ctx.log.warn(
            { kind: 'Configuration', namespace, name, error: String(error) },
            'revision GC failed',
          );
        }
      }
    } finally {
      this.running = false;
    }
  }
}
