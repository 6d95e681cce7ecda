// A revision's timeouts (Knative's timeoutSeconds, responseStartTimeoutSeconds and
// idleTimeoutSeconds) for one request, and what a timeout does to the client's response, the
// same on both request paths: one sweep every SWEEP_MS over the exchanges in flight, one function
// that says which limit, if any, an exchange has passed, and one that says how a response that
// has begun ends. The rules are those of Knative's timeout handler (pkg/http/handler/timeout.go),
// which wraps the activator and the queue-proxy, both of whose jobs the gateway does: every limit
// counts from the request's arrival (waiting for a pod included), and only what is written to the
// client counts as progress; the request's own bytes do not.
import type { Ticket } from './admission.ts';
import type { ChunkedScanner } from './chunked-scanner.ts';
import type { Framing } from './hop-by-hop.ts';

/** How often the timeouts are checked: their granularity. */
export const SWEEP_MS = 50;

export interface TimedExchange {
  readonly ticket: Ticket;
  /**
   * performance.now() of the last write to the client (a 1xx, the response head, body bytes);
   * undefined until the first. A websocket tunnel never sets it: Knative's handler sees nothing
   * written on a hijacked connection.
   */
  readonly lastWrite: number | undefined;
  /** Called once the exchange is overdue, with the reason for the client. */
  timeout: (why: string) => void;
}

/**
 * The limit `ex` has passed at `now`, as the reason the client is told; undefined when none.
 * timeoutSeconds holds whether or not the response has begun. responseStartTimeoutSeconds holds
 * only while nothing was written, and idleTimeoutSeconds from the last write (from the arrival
 * before the first); 0 sets no limit for either, as Knative reads a revision's zero or unset value.
 */
export function overdue(ex: TimedExchange, now: number): string | undefined {
  const settings = ex.ticket.backend.settings;
  const key = ex.ticket.key;
  const arrived = ex.ticket.arrived;
  if (now - arrived >= settings.timeoutMs) {
    return `revision ${key} did not answer within timeoutSeconds (${settings.timeoutMs / 1000} s)`;
  }
  const start = settings.responseStartTimeoutMs;
  if (start > 0 && ex.lastWrite === undefined && now - arrived >= start) {
    return `revision ${key} did not start its response within responseStartTimeoutSeconds (${start / 1000} s)`;
  }
  const idle = settings.idleTimeoutMs;
  if (idle > 0 && now - (ex.lastWrite ?? arrived) >= idle) {
    return `revision ${key} sent nothing for idleTimeoutSeconds (${idle / 1000} s)`;
  }
  return undefined;
}

/**
 * How a response whose head went out ends when a timeout stops it: the bytes that end its body
 * cleanly (possibly none), or undefined when only closing the connection is honest. Knative's
 * handler stops relaying and Go's server then ends the response as its framing allows, so the
 * client sees a complete response, cut short: a chunked body gets its last chunk, and a body that
 * runs to the close ends with the close. A Content-Length body that is not all there cannot be
 * completed without inventing bytes, so its connection is closed and the client sees it cut off.
 * `chunks`: where the pod's chunks stand when they are relayed byte for byte (the fast path);
 * absent when the gateway frames the chunks itself (node:http), always between two.
 */
export function cleanEnd(framing: Framing, chunks?: ChunkedScanner): string | undefined {
  switch (framing.kind) {
    case 'chunked':
      return chunks === undefined ? '0\r\n\r\n' : chunks.ending();
    case 'close':
    case 'none':
      return '';
    case 'length':
      return undefined;
  }
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
