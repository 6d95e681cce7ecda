// Revision garbage collection per config-gc, run by the leader once a minute over every
// Configuration. The decision is revisionsToCollect's (pure); this only deletes and reports.
import { REVISIONS, isNotFound } from '../../controller/kube.ts';
import { objectKey } from '../../controller/informer.ts';
import type { ReconcilerContext } from '../context.ts';
import { isControlledBy } from '../shared/meta.ts';
import { revisionsToCollect } from './collect.ts';

const INTERVAL_MS = 60_000;

export class GarbageCollector {
  private readonly ctx: ReconcilerContext;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
  }

  start(): void {
    this.timer = setInterval(() => void this.collect(), INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async collect(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const gc = this.ctx.config().gc;
      for (const cfg of this.ctx.world.configurations.list()) {
        const revisions = this.ctx.world.revisionsByConfiguration
          .get(objectKey(cfg))
          .filter((r) => isControlledBy(r, cfg));
        const doomed = revisionsToCollect({
          configuration: cfg.status ?? {},
          revisions,
          gc,
          now: this.ctx.now(),
        });
        for (const { name, reason } of doomed) {
          const namespace = cfg.metadata.namespace ?? '';
          try {
            await this.ctx.custom.delete(REVISIONS, namespace, name);
            this.ctx.log.info({ kind: 'Revision', namespace, name, reason }, 'garbage-collected revision');
            this.ctx.events.event(
              cfg,
              'Normal',
              'RevisionCollected',
              `Deleted Revision ${JSON.stringify(name)}: ${reason}`,
            );
          } catch (error) {
            if (!isNotFound(error))
              this.ctx.log.warn(
                { kind: 'Revision', namespace, name, err: error },
                'could not garbage-collect revision',
              );
          }
        }
      }
    } finally {
      this.running = false;
    }
  }
}
