// The node:http path: every request the fast path does not serve itself (bodies, waiting for a
// pod at zero or at its concurrency limit, HTTP/1.0, odd but valid syntax) and websocket
// upgrades, read by node:http (llhttp). The pipeline routes, admits and times each request as it
// does the fast path's; this module only moves the bytes, through forwarder.ts for plain requests
// and http-proxy-3 for websocket tunnels.
import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ProxyServer } from 'http-proxy-3';
import type { Ticket } from './admission.ts';
import { QueueFullError } from './breaker.ts';
import { splitAddress } from './endpoints.ts';
import { cleanEnd, type TimedExchange } from './exchange-timeouts.ts';
import { forwardHeaders, withoutInternalHeaders, type HeaderRecord } from './forward-headers.ts';
import {
  downstreamHeaders,
  forward,
  hasBody,
  upgradeRequestHeaders,
  upgradeResponseHeaders,
} from './forwarder.ts';
import { answerResponse, answerSocket, clientErrorAnswer } from './gateway-answers.ts';
import type { Framing } from './hop-by-hop.ts';
import { REVISION_HEADER, type Entry, type Pipeline } from './pipeline.ts';
import { isIdempotent, mayResend, podGone, type Delivery } from './replay.ts';
import { singleHost, type RouteResult } from './request-routing.ts';

/** Status recorded for an exchange whose client went away before the response began. */
const CLIENT_CLOSED = 499;

class GatewayTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayTimeout';
  }
}

/** One request on the node:http path, from admission to the end of its response. */
class ProxiedExchange implements TimedExchange {
  readonly ticket: Ticket;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  lastWrite: number | undefined = undefined;
  upstream: ClientRequest | undefined;
  /** The pod's answer once it began; its body's framing is relayed with it. */
  answer: IncomingMessage | undefined;
  /** Stops a wait for a pod (the client left, or the request timed out). */
  waiting: AbortController | undefined;
  /** The gateway answered (or gave up on) the request itself. */
  settled = false;
  private readonly path: NodeHttpPath;

  constructor(path: NodeHttpPath, ticket: Ticket, req: IncomingMessage, res: ServerResponse) {
    this.path = path;
    this.ticket = ticket;
    this.req = req;
    this.res = res;
  }

  wrote(): void {
    this.lastWrite = performance.now();
  }

  timeout(why: string): void {
    if (this.settled) return;
    this.waiting?.abort(new GatewayTimeout(why));
    this.path.pipeline.metrics.refusedRequest('timeout');
    if (this.res.headersSent) this.path.endEarly(this);
    else this.path.fail(this, 504, why);
  }
}

/**
 * A websocket upgrade, and then its tunnel. As under Knative's handler, whose writer never sees a
 * hijacked connection's bytes, the tunnel counts as nothing written: each of the revision's limits
 * closes it that long after the upgrade request arrived, whatever went through it. An upgrade the
 * pod refused is relayed and no longer timed.
 */
class UpgradeExchange implements TimedExchange {
  readonly ticket: Ticket;
  readonly socket: Socket;
  readonly lastWrite = undefined;
  readonly waiting = new AbortController();
  status = CLIENT_CLOSED;
  /** The pod answered: with 101 the tunnel is open, with anything else the answer is relayed. */
  answered = false;
  upstream: ClientRequest | undefined;
  /** The pod's side of the open tunnel. */
  tunnel: Socket | undefined;
  private readonly pipeline: Pipeline;

  constructor(pipeline: Pipeline, ticket: Ticket, socket: Socket) {
    this.pipeline = pipeline;
    this.ticket = ticket;
    this.socket = socket;
  }

  timeout(why: string): void {
    this.waiting.abort(new GatewayTimeout(why));
    this.upstream?.destroy();
    this.pipeline.metrics.refusedRequest('timeout');
    if (this.tunnel !== undefined) {
      // After the 101 there is no answer left to give: both ends of the tunnel close.
      this.tunnel.destroy();
      this.socket.destroy();
      return;
    }
    this.status = 504;
    answerSocket(this.socket, 504, why);
  }

  /** The pod answered the upgrade with `status`, and with 101 the tunnel `tunnel`. */
  onAnswer(status: number, tunnel?: Socket): void {
    this.answered = true;
    this.status = status;
    if (tunnel === undefined) this.pipeline.timeouts.delete(this);
    else this.tunnel = tunnel;
  }
}

export class NodeHttpPath {
  readonly pipeline: Pipeline;
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 1024, scheduling: 'lifo' });
  /** Tunnels websocket upgrades. */
  private readonly proxy = new ProxyServer({ xfwd: false, ws: true });
  private readonly upgrades = new WeakMap<IncomingMessage, UpgradeExchange>();
  /** The request in flight on each connection, for refusals that must wait behind its answer. */
  private readonly responding = new WeakMap<Socket, { res: ServerResponse; ex?: ProxiedExchange }>();

  constructor(pipeline: Pipeline) {
    this.pipeline = pipeline;
    // The pod's answer to an upgrade gets the same field rules as any other answer. These
    // listeners run before http-proxy-3's own, which write the answer to the client.
    this.proxy.on('proxyReqWs', (proxyReq: ClientRequest, req: IncomingMessage) => {
      const ex = this.upgrades.get(req);
      if (ex !== undefined) ex.upstream = proxyReq;
      proxyReq.prependListener('upgrade', (answer: IncomingMessage, tunnel: Socket) => {
        ex?.onAnswer(101, tunnel);
        answer.headers = upgradeResponseHeaders(answer.headers);
      });
      proxyReq.prependListener('response', (answer: IncomingMessage) => {
        ex?.onAnswer(answer.statusCode ?? 0);
        // Not upgraded: relayed, and the client's connection closes after it.
        answer.headers = downstreamHeaders(answer.headers, true) as IncomingMessage['headers'];
      });
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * llhttp refused bytes on `socket` (node:http's 'clientError', with llhttp's code). When they
   * were the body of the request in flight, that request is cut off and answered with the refusal
   * (or cut, if its answer began). When they came after it, its answer goes first, whole, then
   * the refusal: a refusal of a pipelined head never overtakes the answer before it. After a
   * request that closes the connection, nothing more is read or answered.
   */
  refuseBytes(socket: Socket, code: string | undefined): void {
    const closing = code === 'HPE_CLOSED_CONNECTION';
    const { status, message } = clientErrorAnswer(code);
    if (!closing) this.pipeline.metrics.refusedRequest(status === 408 ? 'timeout' : 'bad_request');
    const refuse = (): void => {
      if (closing) socket.end();
      else answerSocket(socket, status, message);
    };
    const current = this.responding.get(socket);
    const res = current?.res;
    if (res === undefined || res.writableFinished) {
      refuse();
      return;
    }
    if (!res.req.complete) {
      if (current?.ex !== undefined) this.fail(current.ex, status, message, true);
      else if (!res.headersSent) answerResponse(res, status, message, true);
      else res.destroy();
      return;
    }
    res.once('finish', refuse);
    res.once('close', () => {
      if (!res.writableFinished) socket.destroy();
    });
  }

  web(listener: Entry): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      void this.handle(listener, req, res);
    };
  }

  upgrade(listener: Entry): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
    return (req, socket, head) => {
      void this.handleUpgrade(listener, req, socket, head);
    };
  }

  /**
   * The request's revision: the one another replica passed it for (on the peer listener), the one
   * the fast path drew for it, or by its Host.
   */
  private route(listener: Entry, req: IncomingMessage): { result: RouteResult; attempts: number } {
    if (listener === 'peer') {
      const key = req.headers[REVISION_HEADER];
      return { result: this.pipeline.routeRevision(typeof key === 'string' ? key : ''), attempts: 0 };
    }
    const handover = this.pipeline.take(req.socket);
    const routed =
      handover === undefined
        ? undefined
        : this.pipeline.routeTo(handover.routed.namespace, handover.routed.revision);
    if (handover !== undefined && routed !== undefined)
      return { result: routed, attempts: handover.attempts };
    const host = singleHost(req.rawHeaders);
    if (typeof host !== 'string') return { result: { ok: false, ...host }, attempts: 0 };
    const tag = req.headers['knative-serving-tag'];
    return { result: this.pipeline.route(listener, host, Array.isArray(tag) ? tag[0] : tag), attempts: 0 };
  }

  private async handle(listener: Entry, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pipeline } = this;
    const socket = req.socket;
    const current: { res: ServerResponse; ex?: ProxiedExchange } = { res };
    this.responding.set(socket, current);
    res.once('close', () => {
      if (this.responding.get(socket) === current) this.responding.delete(socket);
    });
    const { result, attempts } = this.route(listener, req);
    if (!result.ok) {
      pipeline.metrics.refusedRequest(result.reason);
      answerResponse(res, result.code, result.why, pipeline.draining());
      req.resume();
      return;
    }
    const ticket = pipeline.admission.start(result, attempts, listener === 'peer');
    const ex = new ProxiedExchange(this, ticket, req, res);
    current.ex = ex;
    const cold = !ticket.backend.serving;
    res.once('close', () => {
      pipeline.timeouts.delete(ex);
      if (!res.writableFinished) ex.waiting?.abort(new Error('client went away'));
      pipeline.admission.finish(ticket, res.headersSent ? res.statusCode : CLIENT_CLOSED);
    });
    pipeline.timeouts.add(ex);
    if (!pipeline.admission.tryReserve(ticket) && !(await this.waitForPod(ex))) return;
    if (cold)
      pipeline.metrics.coldStart(
        ticket.namespace,
        ticket.revision,
        (performance.now() - ticket.arrived) / 1000,
      );
    req.headers = forwardedHeaders(listener, req);
    this.send(ex);
  }

  /** Waits in the revision's queue for a pod with room; false when the request ended meanwhile. */
  private async waitForPod(ex: ProxiedExchange): Promise<boolean> {
    const { ticket, res, req } = ex;
    ex.waiting = new AbortController();
    try {
      await this.pipeline.admission.reserve(ticket, ex.waiting.signal);
    } catch (error) {
      if (error instanceof QueueFullError) {
        this.pipeline.metrics.refusedRequest('queue_full');
        this.fail(ex, 503, `revision ${ticket.key}: ${error.message}; retry later`);
      } else if (!(error instanceof GatewayTimeout)) {
        // A timeout was answered by ex.timeout(); a client that left needs no answer.
        this.fail(ex, 503, `revision ${ticket.key}: ${String(error)}`);
      }
      req.resume();
      return false;
    } finally {
      ex.waiting = undefined;
    }
    return !(ex.settled || res.destroyed || res.writableEnded);
  }

  private send(ex: ProxiedExchange): void {
    const reservation = ex.ticket.reservation;
    if (reservation === undefined) return;
    ex.ticket.attempts++;
    const { host, port } = splitAddress(reservation.tracker.dest);
    forward(ex.req, ex.res, {
      host,
      port,
      agent: this.agent,
      headers: passedOn(reservation.tracker.peer, ex.ticket, ex.req.headers),
      onRequest: (upstream) => {
        ex.upstream = upstream;
      },
      onResponse: (answer) => {
        ex.answer = answer;
        ex.wrote();
        // Draining: every response asks its client to reconnect (to another replica).
        return this.pipeline.draining();
      },
      onWrite: () => {
        ex.wrote();
      },
      onError: (error, delivery) => {
        this.sendFailed(ex, error, delivery);
      },
    });
  }

  private sendFailed(ex: ProxiedExchange, error: NodeJS.ErrnoException, delivery: Delivery): void {
    const { ticket, req, res } = ex;
    if (ex.settled || res.destroyed) return;
    const code = error.code ?? '';
    if (podGone(code) && ticket.reservation !== undefined)
      ticket.backend.setAside(ticket.reservation.tracker.dest);
    const method = req.method ?? '';
    if (!res.headersSent && !hasBody(req) && mayResend(method, delivery, ticket.attempts)) {
      // Another pod (this one is set aside when gone), as replay.ts allows.
      this.pipeline.admission.releasePod(ticket);
      void this.waitForPod(ex).then((ready) => {
        if (ready) this.send(ex);
      });
      return;
    }
    this.pipeline.log.debug({ namespace: ticket.namespace, revision: ticket.revision, code }, 'proxy error');
    const unsafe = delivery !== 'unsent' && !isIdempotent(method);
    this.pipeline.metrics.refusedRequest('upstream_error');
    this.fail(
      ex,
      502,
      `revision ${ticket.key}: error reaching the pod (${describeError(error)})` +
        (unsafe && !res.headersSent ? `; a ${method} request is not sent twice` : ''),
    );
  }

  /**
   * Answers `code` if the response has not started, otherwise cuts it off. `close`: the client's
   * connection ends after the answer.
   */
  fail(ex: ProxiedExchange, code: number, why: string, close = false): void {
    if (ex.settled) return;
    ex.settled = true;
    this.pipeline.timeouts.delete(ex);
    ex.waiting?.abort(new Error('answered by the gateway'));
    ex.upstream?.destroy();
    if (ex.res.headersSent) ex.res.destroy();
    else answerResponse(ex.res, code, why, close || this.pipeline.draining());
  }

  /**
   * A timeout after the response's head went out: the pod's side is closed, so that the pod sees
   * the request cancelled, and the client's response ends where its framing lets it (cleanEnd):
   * node:http writes the last chunk of a chunked body and closes a body that runs to the close.
   */
  endEarly(ex: ProxiedExchange): void {
    if (ex.settled) return;
    ex.settled = true;
    this.pipeline.timeouts.delete(ex);
    ex.upstream?.destroy();
    const res = ex.res;
    if (cleanEnd(relayedFraming(res, ex.answer)) === undefined) res.destroy();
    else res.end();
  }

  private async handleUpgrade(
    listener: Entry,
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
  ): Promise<void> {
    const { pipeline } = this;
    socket.on('error', () => socket.destroy());
    const { result, attempts } = this.route(listener, req);
    if (!result.ok) {
      pipeline.metrics.refusedRequest(result.reason);
      answerSocket(socket, result.code, result.why);
      return;
    }
    const ticket = pipeline.admission.start(result, attempts, listener === 'peer');
    const ex = new UpgradeExchange(pipeline, ticket, socket);
    socket.once('close', () => {
      pipeline.timeouts.delete(ex);
      ex.waiting.abort(new Error('client went away'));
      pipeline.admission.finish(ticket, ex.status);
    });
    pipeline.timeouts.add(ex);
    if (!pipeline.admission.tryReserve(ticket)) {
      try {
        await pipeline.admission.reserve(ticket, ex.waiting.signal);
      } catch (error) {
        if (error instanceof GatewayTimeout) return;
        pipeline.metrics.refusedRequest(error instanceof QueueFullError ? 'queue_full' : 'not_ready');
        ex.status = 503;
        answerSocket(
          socket,
          503,
          `revision ${ticket.key}: ${error instanceof Error ? error.message : String(error)}`,
        );
        return;
      }
    }
    const reservation = ticket.reservation;
    if (socket.destroyed || reservation === undefined) return;
    ticket.attempts++;
    req.headers = upgradeRequestHeaders(
      passedOn(reservation.tracker.peer, ticket, forwardedHeaders(listener, req)),
    ) as IncomingMessage['headers'];
    const { host, port } = splitAddress(reservation.tracker.dest);
    this.upgrades.set(req, ex);
    this.proxy.ws(req, socket, head, { target: { host, port } }, (error: Error) => {
      pipeline.timeouts.delete(ex);
      // Once the pod has answered, the client has its answer (or the tunnel): it only ends.
      if (ex.answered) {
        socket.destroy();
        return;
      }
      pipeline.metrics.refusedRequest('upstream_error');
      ex.status = 502;
      answerSocket(
        socket,
        502,
        `revision ${ticket.key}: error reaching the pod (${(error as NodeJS.ErrnoException).code ?? error.message})`,
      );
    });
  }
}

/**
 * How node:http frames the pod's `answer` it relays in `res`, once its head is written: with the
 * pod's Content-Length when it had one (writeHead keeps it where getHeader does not look), else
 * chunked or to the close as node:http chose for the client.
 */
function relayedFraming(res: ServerResponse, answer: IncomingMessage | undefined): Framing {
  const length = answer?.headers['content-length'];
  if (length !== undefined) return { kind: 'length', length: Number(length) };
  return res.chunkedEncoding ? { kind: 'chunked' } : { kind: 'close' };
}

/** A connection error by its code; anything else (a malformed answer, an unsolicited 101) by its message. */
function describeError(error: NodeJS.ErrnoException): string {
  const code = error.code ?? '';
  return /^E[A-Z]+$/.test(code) && code !== 'EMALFORMED' ? code : error.message;
}

/**
 * The request's fields with this hop's forwarding fields added; on the peer listener the replica
 * that passed the request added them already, and only the internal fields go.
 */
function forwardedHeaders(listener: Entry, req: IncomingMessage): HeaderRecord {
  if (listener === 'peer') return withoutInternalHeaders(req.headers);
  return forwardHeaders(req.headers, { clientIP: req.socket.remoteAddress, proto: 'http' });
}

/** To another replica, the request carries the revision it is for: that replica owns its pods. */
function passedOn(toPeer: boolean, ticket: Ticket, headers: HeaderRecord): HeaderRecord {
  return toPeer ? { ...headers, [REVISION_HEADER]: ticket.key } : headers;
}
