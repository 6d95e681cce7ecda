// Admission: a routed request is counted in flight (the drain waits for it) and reported to the
// autoscaler, takes a slot on one of its revision's pods (at once, or after waiting in the
// revision's bounded queue), and gives all of it back exactly once when it ends, with its status
// recorded. The fast path, the node:http path and upgrades all admit here.
import type { GatewayMetrics } from './metrics.ts';
import type { PodReservation } from './pod-trackers.ts';
import type { ConcurrencyReporter } from './request-stats.ts';
import type { RevisionBackend } from './revision-backend.ts';
import type { Routed } from './request-routing.ts';

/** One admitted request, from routing to its end. */
export class Ticket {
  readonly namespace: string;
  readonly revision: string;
  readonly backend: RevisionBackend;
  readonly arrived = performance.now();
  /** The pod slot held now; undefined while waiting for one, or between attempts. */
  reservation: PodReservation | undefined;
  /** Times the request was sent towards a pod, on either path (replay.ts bounds it). */
  attempts: number;
  /**
   * Passed here by another gateway replica: admitted only to a pod this replica owns, and neither
   * reported to the autoscaler nor counted in the request metrics (the first replica did both).
   */
  readonly passed: boolean;
  ended = false;

  constructor(routed: Routed, attempts: number, passed: boolean) {
    this.namespace = routed.namespace;
    this.revision = routed.revision;
    this.backend = routed.backend;
    this.attempts = attempts;
    this.passed = passed;
  }

  /** `namespace/revision`: the backend's own key, one string for every request to it. */
  get key(): string {
    return this.backend.key;
  }
}

export interface AdmissionDeps {
  reporter: ConcurrencyReporter;
  /** Tells the autoscaler at once that a revision got its first request of a period. */
  poke: (namespace: string, revision: string) => void;
  metrics: GatewayMetrics;
}

export class Admission {
  private readonly deps: AdmissionDeps;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(deps: AdmissionDeps) {
    this.deps = deps;
  }

  /** Requests (and websockets) being handled right now. */
  get active(): number {
    return this.inFlight;
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * The request is in flight from now on, with no pod yet. `attempts`: made before, on the fast
   * path; `passed`: it came from another replica (Ticket.passed).
   */
  start(routed: Routed, attempts = 0, passed = false): Ticket {
    const ticket = new Ticket(routed, attempts, passed);
    this.inFlight++;
    if (!passed && this.deps.reporter.requestStarted(ticket.key, Date.now()))
      this.deps.poke(ticket.namespace, ticket.revision);
    return ticket;
  }

  /**
   * For the fast path: a ticket holding a pod slot, when the revision has room right now;
   * undefined, with nothing counted or reported, when it has none (node:http then admits it).
   */
  admitNow(routed: Routed): Ticket | undefined {
    const reservation = routed.backend.tryReserve();
    if (reservation === undefined) return undefined;
    const ticket = this.start(routed);
    ticket.reservation = reservation;
    return ticket;
  }

  /** A pod slot now, when the revision has room and nobody queues ahead; undefined otherwise. */
  tryReserve(ticket: Ticket): boolean {
    ticket.reservation = ticket.backend.tryReserve(ticket.passed);
    return ticket.reservation !== undefined;
  }

  /**
   * A pod slot, waiting in the revision's queue while there is none. Rejects with QueueFullError
   * when the queue is full and with the signal's reason on abort. A request that ended meanwhile
   * gives the slot straight back.
   */
  async reserve(ticket: Ticket, signal: AbortSignal): Promise<void> {
    const reservation = await ticket.backend.reserve(signal, ticket.passed);
    if (ticket.ended) ticket.backend.release(reservation);
    else ticket.reservation = reservation;
  }

  /** Gives the pod slot back (to try another pod), keeping the request in flight. */
  releasePod(ticket: Ticket): void {
    if (ticket.reservation === undefined) return;
    ticket.backend.release(ticket.reservation);
    ticket.reservation = undefined;
  }

  /** The request ended with `status` sent to the client (499: the client left first). */
  finish(ticket: Ticket, status: number): void {
    if (!this.end(ticket) || ticket.passed) return;
    this.deps.metrics.request(
      ticket.key,
      ticket.namespace,
      ticket.revision,
      status,
      (performance.now() - ticket.arrived) / 1000,
    );
  }

  /** The request leaves this admission unanswered, to be admitted again by the node:http path. */
  abandon(ticket: Ticket): void {
    this.end(ticket);
  }

  private end(ticket: Ticket): boolean {
    if (ticket.ended) return false;
    ticket.ended = true;
    if (!ticket.passed) this.deps.reporter.requestEnded(ticket.key, Date.now());
    this.releasePod(ticket);
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    return true;
  }
}
