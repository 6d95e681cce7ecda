// Prometheus metrics of the admission webhook: reviews by kind, operation and verdict, and how long
// each handler took. Labels are bounded: kinds are the few the webhook configurations route here.
import { Counter, Histogram, register, type Registry } from 'prom-client';
import type { AdmissionHandlerName, ReviewOutcome } from './admission.ts';

export class WebhookMetrics {
  private readonly requests: Counter<'kind' | 'operation' | 'allowed'>;
  private readonly latency: Histogram<'handler'>;

  constructor(registry: Registry = register) {
    this.requests = new Counter({
      name: 'ebb_webhook_admission_requests_total',
      help: 'Admission reviews answered, by object kind, operation and whether they were allowed.',
      labelNames: ['kind', 'operation', 'allowed'] as const,
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'ebb_webhook_admission_duration_seconds',
      help: 'Time to answer one admission review, by handler.',
      labelNames: ['handler'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  }

  /** Counts one review; malformed ones have no kind or operation and count as `unknown`. */
  readonly observe = (handler: AdmissionHandlerName, outcome: ReviewOutcome, seconds: number): void => {
    this.requests.inc({
      kind: outcome.kind === '' ? 'unknown' : outcome.kind,
      operation: outcome.operation === '' ? 'unknown' : outcome.operation,
      allowed: outcome.allowed ? 'true' : 'false',
    });
    this.latency.observe({ handler }, seconds);
  };
}
