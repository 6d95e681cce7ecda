// The gateway's request path: Host → Route → a revision by the traffic split → a pod with room
// (waiting in the revision's bounded queue while there is none) → proxied with keep-alive,
// streaming both ways, websockets included. The gateway answers itself only when it must, always
// with a one-line reason: 404 for a host no Route serves, 503 when the route is not ready or the
// queue is full, 504 on the revision's timeouts, 502 when the pod cannot be reached. Plain requests
// go through forward() (node:http); upgrades are tunnelled by http-proxy-3.
import { Agent, type IncomingMessage, type ServerResponse, type ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { ProxyServer } from 'http-proxy-3';
import type { Logger } from 'pino';
import { QueueFullError } from './breaker.ts';
import { splitAddress } from './endpoints.ts';
import { forwardHeaders } from './forward-headers.ts';
import { gatewayAnswer } from './http1-head.ts';
import { forward } from './forwarder.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { PodReservation } from './pod-trackers.ts';
import type { ConcurrencyReporter } from './request-stats.ts';
import type { RevisionBackend } from './revision-backend.ts';
import type { Listener, RoutingTable } from './routing-table.ts';
import { pickTarget } from './traffic-pick.ts';

export interface ProxyDeps {
  table: () => RoutingTable;
  tagHeaderRouting: () => boolean;
  /** The revision's backend, created on first use; undefined when the revision is unknown. */
  backend: (namespace: string, revision: string) => RevisionBackend | undefined;
  reporter: ConcurrencyReporter;
  /** Tells the autoscaler at once that a revision got its first request of a period. */
  poke: (namespace: string, revision: string) => void;
  metrics: GatewayMetrics;
  log: Logger;
  /** True after SIGTERM: responses ask clients to close their connections. */
  draining: () => boolean;
}

class GatewayTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayTimeout';
  }
}

/** Per-request bookkeeping, found again from the proxy's events. */
interface Exchange {
  namespace: string;
  revision: string;
  reservation?: PodReservation;
  backend: RevisionBackend;
  proxyReq?: ClientRequest;
  /** Set when the gateway answered (or gave up on) the request itself. */
  settled: boolean;
  attempts: number;
  timers: NodeJS.Timeout[];
  idle?: NodeJS.Timeout;
}

/** A request the fast path serves, with the pod slot it holds until finishFast or abandonFast. */
export class FastTicket {
  readonly namespace: string;
  readonly revision: string;
  readonly backend: RevisionBackend;
  readonly reservation: PodReservation;
  readonly arrived = performance.now();
  settled = false;

  constructor(namespace: string, revision: string, backend: RevisionBackend, reservation: PodReservation) {
    this.namespace = namespace;
    this.revision = revision;
    this.backend = backend;
    this.reservation = reservation;
  }

  /** `namespace/revision`: the backend's own key, one string for every request to it. */
  get key(): string {
    return this.backend.key;
  }
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH']);
/** Errors that say the pod itself is gone, not just one connection to it. */
const POD_GONE = new Set(['ECONNREFUSED', 'EHOSTUNREACH']);

export class ProxyHandler {
  private readonly deps: ProxyDeps;
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 1024, scheduling: 'lifo' });
  /** Tunnels upgrades (websockets); plain requests go through forward(). */
  private readonly proxy = new ProxyServer({ xfwd: false, ws: true });
  private readonly exchanges = new WeakMap<IncomingMessage, Exchange>();
  /**
   * The revision the fast path picked for a request it handed to node:http on this connection (no
   * pod had room, or the pod never answered): node:http serves that request with the same pick, so
   * that a revision without room waits for its share instead of passing it to another.
   */
  private readonly picks = new WeakMap<Socket, { namespace: string; revision: string }>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(deps: ProxyDeps) {
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

  close(): void {
    this.agent.destroy();
  }

  web(listener: Listener): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      void this.handle(listener, req, res);
    };
  }

  upgrade(listener: Listener): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
    return (req, socket, head) => {
      void this.handleUpgrade(listener, req, socket, head);
    };
  }

  /**
   * For the fast path (fast-path.ts): the request's revision and a free pod at once, counted as
   * in flight and reported to the autoscaler as the node:http path does. Undefined when the host
   * has no ready route or no pod has room right now: node:http then serves the request, answering
   * or queueing it.
   */
  reserveNow(
    listener: Listener,
    host: string,
    tagHeader: string | undefined,
    socket: Socket,
  ): FastTicket | undefined {
    const found = this.resolveHost(listener, host, tagHeader);
    if (!found.ok) {
      this.deps.metrics.handover('route');
      return undefined;
    }
    const { namespace, revision, backend } = found;
    const reservation = backend.tryReserve();
    if (reservation === undefined) {
      this.deps.metrics.handover('no_room');
      this.picks.set(socket, { namespace, revision });
      return undefined;
    }
    this.inFlight++;
    if (this.deps.reporter.requestStarted(backend.key, Date.now())) this.deps.poke(namespace, revision);
    return new FastTicket(namespace, revision, backend, reservation);
  }

  /** The fast path's exchange ended; `code` is the status the client got (0: none). */
  finishFast(ticket: FastTicket, code: number): void {
    if (!this.settleFast(ticket)) return;
    this.deps.metrics.request(
      ticket.key,
      ticket.namespace,
      ticket.revision,
      code,
      (performance.now() - ticket.arrived) / 1000,
    );
  }

  /**
   * The fast path gives the request back unanswered, to be served again by node:http: the pod
   * could not be reached (`code` says whether it is gone, and so set aside) or closed the
   * connection before answering.
   */
  abandonFast(ticket: FastTicket, code: string, socket: Socket): void {
    this.deps.metrics.handover('unanswered');
    if (POD_GONE.has(code)) ticket.backend.setAside(ticket.reservation.tracker.dest);
    this.settleFast(ticket);
    this.picks.set(socket, { namespace: ticket.namespace, revision: ticket.revision });
  }

  /** Refusals the fast path answers itself (its timeouts and broken responses). */
  refusedFast(reason: string): void {
    this.deps.metrics.refusedRequest(reason);
  }

  /** A request the fast path leaves to node:http before it reached the routing table. */
  handedOver(reason: 'request' | 'head'): void {
    this.deps.metrics.handover(reason);
  }

  private settleFast(ticket: FastTicket): boolean {
    if (ticket.settled) return false;
    ticket.settled = true;
    this.deps.reporter.requestEnded(ticket.key, Date.now());
    ticket.backend.release(ticket.reservation);
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    return true;
  }

  private begin(): () => void {
    this.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
  }

  private resolve(
    listener: Listener,
    req: IncomingMessage,
  ):
    | { ok: true; namespace: string; revision: string; backend: RevisionBackend }
    | { ok: false; code: number; reason: string; why: string } {
    const pick = this.picks.get(req.socket);
    if (pick !== undefined) {
      // The first request after a hand-over is the one the fast path picked a revision for.
      this.picks.delete(req.socket);
      const backend = this.deps.backend(pick.namespace, pick.revision);
      if (backend !== undefined) return { ok: true, ...pick, backend };
    }
    const tag = req.headers['knative-serving-tag'];
    return this.resolveHost(listener, req.headers.host ?? '', Array.isArray(tag) ? tag[0] : tag);
  }

  private resolveHost(
    listener: Listener,
    host: string,
    tagHeader: string | undefined,
  ):
    | { ok: true; namespace: string; revision: string; backend: RevisionBackend }
    | { ok: false; code: number; reason: string; why: string } {
    const match = this.deps.table().lookup({
      host,
      listener,
      tagHeader,
      tagHeaderRouting: this.deps.tagHeaderRouting(),
    });
    if (match === undefined) {
      return {
        ok: false,
        code: 404,
        reason: 'unknown_host',
        why: `no Route serves host ${JSON.stringify(host)}`,
      };
    }
    const route = `${match.route.namespace}/${match.route.name}`;
    if (!match.ready)
      return { ok: false, code: 503, reason: 'not_ready', why: `Route ${route}: ${match.reason}` };
    const target = pickTarget(match.targets);
    if (target === undefined) {
      return { ok: false, code: 503, reason: 'not_ready', why: `Route ${route} has no traffic target` };
    }
    const backend = this.deps.backend(match.route.namespace, target.revisionName);
    if (backend === undefined) {
      return {
        ok: false,
        code: 503,
        reason: 'not_ready',
        why: `Route ${route}: revision ${target.revisionName} is not known to the gateway yet; retry shortly`,
      };
    }
    return { ok: true, namespace: match.route.namespace, revision: target.revisionName, backend };
  }

  private async handle(listener: Listener, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const end = this.begin();
    res.once('close', end);
    const found = this.resolve(listener, req);
    if (!found.ok) {
      this.deps.metrics.refusedRequest(found.reason);
      this.reply(res, found.code, found.why);
      req.resume();
      return;
    }
    const { namespace, revision, backend } = found;
    const key = `${namespace}/${revision}`;
    const settings = backend.settings;
    const ex: Exchange = { namespace, revision, backend, settled: false, attempts: 0, timers: [] };
    this.exchanges.set(req, ex);
    /** Only a request that has to wait for a pod needs a way to stop waiting. */
    let abort: AbortController | undefined;
    const cold = backend.readyPods === 0;

    if (this.deps.reporter.requestStarted(key, Date.now())) this.deps.poke(namespace, revision);
    res.once('close', () => {
      for (const t of ex.timers) clearTimeout(t);
      if (ex.idle !== undefined) clearTimeout(ex.idle);
      if (!res.writableFinished) abort?.abort(new Error('client went away'));
      this.deps.reporter.requestEnded(key, Date.now());
      if (ex.reservation !== undefined) backend.release(ex.reservation);
      ex.reservation = undefined;
      this.deps.metrics.request(
        key,
        namespace,
        revision,
        res.statusCode,
        (performance.now() - arrived) / 1000,
      );
    });

    // The revision's timeoutSeconds covers the whole exchange, waiting for a pod included.
    ex.timers.push(
      setTimeout(() => {
        const why = `revision ${key} did not answer within timeoutSeconds (${settings.timeoutMs / 1000} s)`;
        abort?.abort(new GatewayTimeout(why));
        this.timeout(req, res, ex, why);
      }, settings.timeoutMs),
    );

    ex.reservation = backend.tryReserve();
    if (ex.reservation === undefined) {
      abort = new AbortController();
      try {
        ex.reservation = await backend.reserve(abort.signal);
      } catch (error) {
        if (error instanceof QueueFullError) {
          this.deps.metrics.refusedRequest('queue_full');
          this.reply(res, 503, `revision ${key}: ${error.message}; retry later`);
        } else if (error instanceof GatewayTimeout) {
          // Answered by the timer.
        } else if (!res.writableEnded && !res.destroyed) {
          this.reply(res, 503, `revision ${key}: ${String(error)}`);
        }
        req.resume();
        return;
      }
      if (res.destroyed || res.writableEnded) {
        // Gone while waiting (the close handler already ran): give the slot back.
        backend.release(ex.reservation);
        ex.reservation = undefined;
        return;
      }
    }
    if (cold) this.deps.metrics.coldStart(namespace, revision, (performance.now() - arrived) / 1000);

    req.headers = forwardHeaders(req.headers, { clientIP: req.socket.remoteAddress, proto: 'http' });
    this.forward(req, res, ex);
  }

  private forward(req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
    const reservation = ex.reservation;
    if (reservation === undefined) return;
    ex.attempts++;
    const settings = ex.backend.settings;
    ex.timers.push(
      setTimeout(() => {
        this.timeout(
          req,
          res,
          ex,
          `revision ${ex.namespace}/${ex.revision} did not start its response within responseStartTimeoutSeconds (${settings.responseStartTimeoutMs / 1000} s)`,
        );
      }, settings.responseStartTimeoutMs),
    );
    if (settings.idleTimeoutMs > 0) {
      this.touch(req, res, ex);
      req.on('data', () => {
        this.touch(req, res, ex);
      });
    }
    const { host, port } = splitAddress(reservation.tracker.dest);
    forward(req, res, {
      host,
      port,
      agent: this.agent,
      headers: req.headers,
      onRequest: (upstream) => {
        ex.proxyReq = upstream;
      },
      onResponse: (answer) => {
        // The response has started: only the overall and idle timeouts still apply.
        const started = ex.timers.pop();
        if (started !== undefined) clearTimeout(started);
        if (settings.idleTimeoutMs > 0)
          answer.on('data', () => {
            this.touch(req, res, ex);
          });
        // Draining: every response asks its client to reconnect (to another replica).
        return this.deps.draining();
      },
      onError: (error) => {
        this.onProxyError(error, req, res, ex);
      },
    });
  }

  private onProxyError(error: Error, req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
    if (ex.settled || res.destroyed) return;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // A pod that went away between our pick and its accept: try another once, when nothing of the
    // request or the response has been sent yet (a request without a body can be sent again).
    const bodiless = req.headers['content-length'] === undefined || req.headers['content-length'] === '0';
    if (POD_GONE.has(code) && ex.reservation !== undefined) ex.backend.setAside(ex.reservation.tracker.dest);
    if (
      RETRYABLE.has(code) &&
      ex.attempts < 3 &&
      !res.headersSent &&
      bodiless &&
      req.headers['transfer-encoding'] === undefined
    ) {
      const started = ex.timers.pop();
      if (started !== undefined) clearTimeout(started);
      const old = ex.reservation;
      ex.reservation = undefined;
      if (old !== undefined) ex.backend.release(old);
      const signal = AbortSignal.timeout(ex.backend.settings.timeoutMs);
      ex.backend.reserve(signal).then(
        (reservation) => {
          if (res.destroyed || ex.settled) {
            ex.backend.release(reservation);
            return;
          }
          ex.reservation = reservation;
          this.forward(req, res, ex);
        },
        () => {
          this.fail(
            res,
            ex,
            502,
            `revision ${ex.namespace}/${ex.revision}: no pod could take the request (${code})`,
          );
        },
      );
      return;
    }
    this.deps.log.debug({ namespace: ex.namespace, revision: ex.revision, code }, 'proxy error');
    this.fail(
      res,
      ex,
      502,
      `revision ${ex.namespace}/${ex.revision}: error reaching the pod (${code || error.message})`,
    );
  }

  private touch(req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
    if (ex.idle !== undefined) clearTimeout(ex.idle);
    const ms = ex.backend.settings.idleTimeoutMs;
    ex.idle = setTimeout(() => {
      this.timeout(
        req,
        res,
        ex,
        `revision ${ex.namespace}/${ex.revision} sent nothing for idleTimeoutSeconds (${ms / 1000} s)`,
      );
    }, ms);
  }

  private timeout(_req: IncomingMessage, res: ServerResponse, ex: Exchange, why: string): void {
    if (ex.settled) return;
    ex.proxyReq?.destroy();
    this.deps.metrics.refusedRequest('timeout');
    this.fail(res, ex, 504, why);
  }

  /** Answers with `code` if the response has not started, otherwise cuts it off. */
  private fail(res: ServerResponse, ex: Exchange, code: number, why: string): void {
    if (ex.settled) return;
    ex.settled = true;
    if (code === 502) this.deps.metrics.refusedRequest('upstream_error');
    if (res.headersSent) res.destroy();
    else this.reply(res, code, why);
  }

  private reply(res: ServerResponse, code: number, message: string): void {
    if (res.headersSent || res.destroyed) return;
    const body = `${message}\n`;
    const headers: Record<string, string | number> = {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-ebb-gateway': 'refused',
    };
    if (this.deps.draining()) headers.connection = 'close';
    res.writeHead(code, headers).end(body);
  }

  private async handleUpgrade(
    listener: Listener,
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
  ): Promise<void> {
    const end = this.begin();
    socket.once('close', end);
    socket.on('error', () => socket.destroy());
    const found = this.resolve(listener, req);
    if (!found.ok) {
      this.deps.metrics.refusedRequest(found.reason);
      rawReply(socket, found.code, found.why);
      return;
    }
    const { namespace, revision, backend } = found;
    const key = `${namespace}/${revision}`;
    if (this.deps.reporter.requestStarted(key, Date.now())) this.deps.poke(namespace, revision);
    let reservation: PodReservation | undefined;
    socket.once('close', () => {
      this.deps.reporter.requestEnded(key, Date.now());
      if (reservation !== undefined) backend.release(reservation);
      reservation = undefined;
    });
    const abort = new AbortController();
    const timer = setTimeout(() => {
      abort.abort(new GatewayTimeout('timed out'));
    }, backend.settings.timeoutMs);
    socket.once('close', () => {
      abort.abort(new Error('client went away'));
    });
    try {
      reservation = await backend.reserve(abort.signal);
    } catch (error) {
      const timedOut = error instanceof GatewayTimeout;
      rawReply(
        socket,
        error instanceof QueueFullError ? 503 : timedOut ? 504 : 503,
        `revision ${key}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    } finally {
      clearTimeout(timer);
    }
    if (socket.destroyed) return;
    req.headers = forwardHeaders(req.headers, { clientIP: socket.remoteAddress, proto: 'http' });
    const { host, port } = splitAddress(reservation.tracker.dest);
    this.proxy.ws(req, socket, head, { target: { host, port } }, () => {
      rawReply(socket, 502, `revision ${key}: error reaching the pod`);
    });
  }
}

/** An HTTP answer written straight to a socket that asked to upgrade. */
function rawReply(socket: Socket, code: number, message: string): void {
  if (!socket.destroyed) socket.end(gatewayAnswer(code, message, true));
}
