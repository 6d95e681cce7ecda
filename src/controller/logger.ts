// The process logger: pino, JSON lines on stdout, level from LOG_LEVEL (default info). Reconcilers
// take children keyed by kind, namespace and name.
import { pino, type Logger } from 'pino';
import { apiMessage, errorCode, isConflict } from './kube.ts';
import type { ReconcileOutcome } from './workqueue.ts';

export function makeLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** Logs a failed reconcile that will be retried, keyed by kind, namespace and name. Conflicts are
 * the normal price of optimistic concurrency (the retry reads fresh state), so they are debug. */
export function logReconcileFailure(log: Logger, kind: string, outcome: ReconcileOutcome): void {
  if (outcome.error === undefined) return;
  const slash = outcome.key.indexOf('/');
  const where =
    slash === -1
      ? { namespace: '', name: outcome.key }
      : { namespace: outcome.key.slice(0, slash), name: outcome.key.slice(slash + 1) };
  log[isConflict(outcome.error) ? 'debug' : 'warn'](
    { kind, ...where, code: errorCode(outcome.error), error: apiMessage(outcome.error) },
    'reconcile failed; retrying',
  );
}

export type { Logger };
