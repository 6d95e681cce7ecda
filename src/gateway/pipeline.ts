// What every request shares on its way through the gateway, whichever path reads its bytes:
// routing, admission, the timeout sweep, metrics and the drain flag, plus the note the fast path
// leaves on a connection it hands to node:http (the revision it drew, the attempts it made), so
// that node:http serves that request as the fast path would have gone on to.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Admission, type AdmissionDeps } from './admission.ts';
import { TimeoutSweep } from './exchange-timeouts.ts';
import type { GatewayMetrics } from './metrics.ts';
import { splitKey } from '../reconciler/context.ts';
import {
  routedTo,
  routeRequest,
  type Routed,
  type RouteResult,
  type RoutingDeps,
} from './request-routing.ts';
import type { Listener } from './routing-table.ts';

/**
 * Where a request came in: a Route listener, or the peer listener, where another gateway replica
 * passes requests for a revision whose pods this replica owns (pod-ownership.ts).
 */
export type Entry = Listener | 'peer';

/** On the peer listener: the revision (`namespace/name`) a passed request is for. */
export const REVISION_HEADER = 'x-ebb-revision';

export interface PipelineDeps extends RoutingDeps, AdmissionDeps {
  metrics: GatewayMetrics;
  log: Logger;
  /** True after SIGTERM: responses ask clients to close their connections. */
  draining: () => boolean;
}

/** A request the fast path left to node:http: where it was going and how often it was sent already. */
export interface Handover {
  routed: Routed;
  attempts: number;
}

export class Pipeline {
  readonly admission: Admission;
  readonly timeouts = new TimeoutSweep();
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly draining: () => boolean;
  private readonly routing: RoutingDeps;
  private readonly handovers = new WeakMap<Socket, Handover>();

  constructor(deps: PipelineDeps) {
    this.routing = deps;
    this.admission = new Admission(deps);
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.draining = deps.draining;
  }

  route(listener: Listener, host: string, tagHeader: string | undefined): RouteResult {
    return routeRequest(this.routing, listener, host, tagHeader);
  }

  /** A request another replica passed here for revision `key`, if this replica knows it. */
  routeRevision(key: string): RouteResult {
    const { namespace, name } = splitKey(key);
    const routed = namespace === '' ? undefined : this.routeTo(namespace, name);
    if (routed !== undefined) return routed;
    return {
      ok: false,
      code: 503,
      reason: 'not_ready',
      why: `revision ${JSON.stringify(key)} is not known to this gateway replica yet; retry shortly`,
    };
  }

  /** The route to revision `namespace/revision`, if it is still known. */
  routeTo(namespace: string, revision: string): RouteResult | undefined {
    const backend = this.routing.backend(namespace, revision);
    return backend === undefined ? undefined : routedTo(backend, namespace, revision);
  }

  /** The fast path leaves the next request on `socket` to node:http. */
  leave(socket: Socket, handover: Handover): void {
    this.handovers.set(socket, handover);
  }

  /** For node:http's next request on `socket`: what the fast path left, once. */
  take(socket: Socket): Handover | undefined {
    const handover = this.handovers.get(socket);
    if (handover !== undefined) this.handovers.delete(socket);
    return handover;
  }

  close(): void {
    this.timeouts.close();
  }
}
