// A revision's timeouts (Knative's timeoutSeconds, responseStartTimeoutSeconds and
// idleTimeoutSeconds) for one request, checked the same way on both request paths: one sweep every
// SWEEP_MS over the exchanges in flight, and one function that says which limit, if any, an
// exchange has passed. timeoutSeconds counts from the request's arrival, waiting for a pod
// included; the response-start limit from when the request was sent to the pod; the idle limit
// from the last byte relayed either way.
import type { Ticket } from './admission.ts';

/** How often the timeouts are checked: their granularity. */
export const SWEEP_MS = 50;

export interface TimedExchange {
  readonly ticket: Ticket;
  /** performance.now() when the request went to the pod; undefined while it waits for one. */
  readonly sentAt: number | undefined;
  readonly responseStarted: boolean;
  /** performance.now() of the last byte relayed either way (the send counts as one). */
  readonly lastActivity: number;
  /** Called once the exchange is overdue, with the reason for the client. */
  timeout: (why: string) => void;
}

/** The limit `ex` has passed at `now`, as the reason the client is told; undefined when none. */
export function overdue(ex: TimedExchange, now: number): string | undefined {
  const settings = ex.ticket.backend.settings;
  const key = ex.ticket.key;
  if (now - ex.ticket.arrived > settings.timeoutMs) {
    return `revision ${key} did not answer within timeoutSeconds (${settings.timeoutMs / 1000} s)`;
  }
  if (ex.sentAt === undefined) return undefined;
  if (!ex.responseStarted && now - ex.sentAt > settings.responseStartTimeoutMs) {
    return `revision ${key} did not start its response within responseStartTimeoutSeconds (${settings.responseStartTimeoutMs / 1000} s)`;
  }
  if (settings.idleTimeoutMs > 0 && now - ex.lastActivity > settings.idleTimeoutMs) {
    return `revision ${key} sent nothing for idleTimeoutSeconds (${settings.idleTimeoutMs / 1000} s)`;
  }
  return undefined;
}

/** The exchanges in flight whose timeouts are checked, and the timer that checks them. */
export class TimeoutSweep {
  private readonly exchanges = new Set<TimedExchange>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => {
      this.sweep();
    }, SWEEP_MS);
    this.timer.unref();
  }

  add(ex: TimedExchange): void {
    this.exchanges.add(ex);
  }

  delete(ex: TimedExchange): void {
    this.exchanges.delete(ex);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    if (this.exchanges.size === 0) return;
    const now = performance.now();
    for (const ex of this.exchanges) {
      const why = overdue(ex, now);
      if (why === undefined) continue;
      this.exchanges.delete(ex);
      ex.timeout(why);
    }
  }
}
