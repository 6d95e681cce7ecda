// Prometheus metrics of the controller machinery, labelled by reconciler (bounded: one value per
// kind) and never by object: reconcile count, errors and latency, queue depth, informer restarts
// and leader status.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReconcileOutcome } from './workqueue.ts';

export class ControllerMetrics {
  readonly registry: Registry;
  private readonly reconciles: Counter<'reconciler' | 'outcome'>;
  private readonly latency: Histogram<'reconciler'>;
  private readonly depth: Gauge<'reconciler'>;
  private readonly informerRestarts: Counter<'resource' | 'reason'>;
  private readonly leader: Gauge;

  constructor(registry = new Registry()) {
    this.registry = registry;
    this.reconciles = new Counter({
      name: 'ebb_controller_reconciles_total',
      help: 'Reconciles by reconciler and outcome (success or error).',
      labelNames: ['reconciler', 'outcome'] as const,
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'ebb_controller_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['reconciler'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.depth = new Gauge({
      name: 'ebb_controller_queue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['reconciler'] as const,
      registers: [registry],
    });
    this.informerRestarts = new Counter({
      name: 'ebb_controller_informer_restarts_total',
      help: 'Informer relists and reconnects, by resource and reason (410, error, stalled).',
      labelNames: ['resource', 'reason'] as const,
      registers: [registry],
    });
    this.leader = new Gauge({
      name: 'ebb_controller_leader',
      help: '1 while this replica holds the leader lease, else 0.',
      registers: [registry],
    });
  }

  /** Hooks for a WorkQueue: pass `onDepth` to its options and `observe` to `run`. */
  forReconciler(reconciler: string): {
    onDepth: (depth: number) => void;
    observe: (o: ReconcileOutcome) => void;
  } {
    return {
      onDepth: (depth) => {
        this.depth.set({ reconciler }, depth);
      },
      observe: (o) => {
        this.reconciles.inc({ reconciler, outcome: o.error === undefined ? 'success' : 'error' });
        this.latency.observe({ reconciler }, o.durationMs / 1000);
      },
    };
  }

  informerRestarted(resource: string, reason: string): void {
    const kind = reason.startsWith('watch failed') ? 'error' : reason;
    this.informerRestarts.inc({ resource, reason: kind });
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }
}
