// The gateway's fast path: its listening sockets, reading HTTP/1.1 itself. A request that is
// plain (HTTP/1.1, no body, no upgrade, one Host; see readRequestHead) and whose revision has a
// pod with room right now goes to that pod over a pooled keep-alive connection, and the pod's
// answer is relayed byte for byte with its own framing. Every other request, and the whole
// connection from then on, is handed to node:http's server and the node:http path (queueing at
// zero, bodies, websockets, llhttp's checks of odd input). Routing, admission, timeouts, replays,
// the header and framing rules and the gateway's own answers are the pipeline's, shared with the
// node:http path; this module only reads and writes the bytes. node:http's objects, streams and
// promises were four fifths of the gateway's CPU and allocation per request (docs/benchmarks.md);
// here a request costs a few strings and one small object.
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Ticket } from './admission.ts';
import { ChunkedScanner } from './chunked-scanner.ts';
import { splitAddress } from './endpoints.ts';
import { cleanEnd, type TimedExchange } from './exchange-timeouts.ts';
import { gatewayAnswer } from './gateway-answers.ts';
import type { Framing } from './hop-by-hop.ts';
import {
  parseResponseHead,
  takeRequestHead,
  upstreamRequestHead,
  type FastRequest,
  type HeadProgress,
} from './http1-head.ts';
import { REVISION_HEADER, type Entry, type Pipeline } from './pipeline.ts';
import { deliveryOf, isIdempotent, mayResend, podGone } from './replay.ts';
import type { Listener } from './routing-table.ts';

export interface FastPathOptions {
  /** The peer listener hands every connection to node:http as it comes (node-http-path.ts). */
  listener: Entry;
  pipeline: Pipeline;
  /** Whether a client at this address may connect at all (the peer listener: gateway replicas only). */
  accept?: (address: string | undefined) => boolean;
  /** node:http's server for this listener. It never listens; it takes over connections. */
  fallback: HttpServer;
  /** An idle client connection is closed after this long (node:http's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /**
   * A request head must arrive in full within this long, on this path and node:http's together:
   * after it the client gets 408.
   */
  headersTimeoutMs: number;
}

/** A response head longer than node:http's default maxHeaderSize is refused (502). */
const MAX_HEAD = 16 * 1024;
/** Pipelined bytes read ahead of the exchange in flight; beyond this the client is not read. */
const MAX_READ_AHEAD = 64 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
/** A pooled connection idle this long is not reused: Node apps close theirs after 5 s. */
const POOL_IDLE_MS = 4000;
/**
 * A request that may not be sent twice (replay.ts) takes a pooled connection only if it was in use
 * this recently, so that it seldom meets a connection the pod is closing as idle.
 */
const FRESH_IDLE_MS = 1000;
const MAX_IDLE_PER_POD = 256;
/** A response head and the body bytes read with it go out as one buffer up to this size. */
const JOIN_MAX = 16 * 1024;
/** Status recorded for an exchange whose client went away before the response began. */
const CLIENT_CLOSED = 499;

/**
 * Each pod connection reads into a buffer of its own, reused from read to read (Node's `onread`),
 * instead of a new 64 KiB allocation and Buffer per read. It starts small, since most answers
 * are, and grows for a connection whose reads fill it. A read's bytes must not be overwritten
 * while anything still holds them: a partial head is copied, and when a write to the client
 * could not be handed to the kernel at once (it keeps a view of the bytes until it drains) the
 * connection takes a new buffer for its next read.
 */
const SMALL_READ = 8 * 1024;
const LARGE_READ = 64 * 1024;

/** A keep-alive connection to one pod, carrying one exchange at a time. */
class Upstream {
  readonly socket: Socket;
  readonly dest: string;
  exchange: FastExchange | undefined;
  idleSince = 0;
  /** The connection opened (a write may have reached the pod). */
  connected = false;
  /** Taken from the pool for this exchange rather than opened for it. */
  reused = false;
  private readonly pool: UpstreamPool;
  private buffer = Buffer.allocUnsafe(SMALL_READ);
  private lastRead = 0;
  /** A write to the client still holds bytes of `buffer`. */
  private held = false;

  constructor(pool: UpstreamPool, dest: string) {
    this.pool = pool;
    this.dest = dest;
    const { host, port } = splitAddress(dest);
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: () => this.nextBuffer(),
        // true: go on reading (a full client pauses this socket itself, in Exchange.body).
        callback: (n: number, buffer: Uint8Array): boolean => {
          this.onRead(n, buffer);
          return true;
        },
      },
    });
    this.socket.once('connect', () => {
      this.connected = true;
    });
    this.socket.on('end', () => {
      if (this.exchange !== undefined) this.exchange.onUpstreamEnd();
      this.socket.destroy();
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.exchange?.onUpstreamError(error.code ?? error.message);
    });
    this.socket.on('close', () => {
      this.pool.forget(this);
      this.exchange?.onUpstreamError('ECONNRESET');
    });
  }

  private onRead(n: number, buffer: Uint8Array): void {
    this.lastRead = n;
    const exchange = this.exchange;
    if (exchange === undefined) {
      this.socket.destroy();
      return;
    }
    const client = exchange.conn.socket;
    try {
      exchange.onUpstreamData(Buffer.from(buffer.buffer, buffer.byteOffset, n));
    } catch (error) {
      exchange.conn.broke(error);
    }
    if (client.writableLength > 0) this.held = true;
  }

  /** The buffer for this connection's next read (Node asks after each read); it only grows. */
  private nextBuffer(): Buffer {
    const size = this.lastRead === this.buffer.length ? LARGE_READ : this.buffer.length;
    if (this.held || size !== this.buffer.length) {
      this.held = false;
      this.buffer = Buffer.allocUnsafe(size);
    }
    return this.buffer;
  }
}

/** Idle connections to pods, by pod address; the most recently used first. */
class UpstreamPool {
  private readonly idle = new Map<string, Upstream[]>();

  /** The most recently used connection to `dest` idle for less than `maxIdle`, or a new one. */
  take(dest: string, now: number, maxIdle: number): Upstream {
    const free = this.idle.get(dest);
    while (free !== undefined && free.length > 0) {
      const up = free.pop();
      if (up === undefined) break;
      if (now - up.idleSince < maxIdle && !up.socket.destroyed) {
        up.reused = true;
        return up;
      }
      up.socket.destroy();
    }
    return new Upstream(this, dest);
  }

  put(up: Upstream, now: number): void {
    up.exchange = undefined;
    up.idleSince = now;
    let free = this.idle.get(up.dest);
    if (free === undefined) {
      free = [];
      this.idle.set(up.dest, free);
    }
    if (free.length >= MAX_IDLE_PER_POD) {
      up.socket.destroy();
      return;
    }
    free.push(up);
  }

  forget(up: Upstream): void {
    const free = this.idle.get(up.dest);
    if (free === undefined) return;
    const i = free.indexOf(up);
    if (i >= 0) free.splice(i, 1);
    if (free.length === 0) this.idle.delete(up.dest);
  }

  destroy(): void {
    for (const free of this.idle.values()) for (const up of free) up.socket.destroy();
    this.idle.clear();
  }
}

const Phase = { Head: 0, Body: 1, Done: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** One request on its way to a pod over the fast path, and its response on the way back. */
class FastExchange implements TimedExchange {
  readonly conn: Connection;
  readonly ticket: Ticket;
  readonly method: string;
  /** The client's head as it came, given to node:http if the request may be sent again. */
  readonly raw: Buffer;
  up: Upstream;
  lastWrite: number | undefined = undefined;
  phase: Phase = Phase.Head;
  status = 0;
  private headBuffer: Buffer | undefined;
  private framing: Framing = { kind: 'none' };
  private remaining = 0;
  private chunks: ChunkedScanner | undefined;
  private reusable = false;
  private closeClient: boolean;
  /** Some byte of an answer came from the pod. */
  private answered = false;
  /** A 1xx went to the client: the request can no longer be handed back unanswered. */
  private interimSent = false;

  constructor(conn: Connection, ticket: Ticket, request: FastRequest, raw: Buffer, up: Upstream) {
    this.conn = conn;
    this.ticket = ticket;
    this.method = request.method;
    this.raw = raw;
    this.up = up;
    this.closeClient = request.close;
  }

  private get pipeline(): Pipeline {
    return this.conn.fast.options.pipeline;
  }

  onUpstreamData(chunk: Buffer): void {
    this.answered = true;
    if (this.phase === Phase.Body) {
      this.body(chunk);
      return;
    }
    let buffer = this.headBuffer === undefined ? chunk : Buffer.concat([this.headBuffer, chunk]);
    const client = this.conn.socket;
    for (;;) {
      const end = buffer.indexOf(CRLF2);
      if (end < 0 || end + 4 > MAX_HEAD) {
        if (end >= 0 || buffer.length > MAX_HEAD) this.badResponse('a response head over 16 KiB');
        // Copied: the bytes read are in a buffer the next read reuses.
        else this.headBuffer = Buffer.from(buffer);
        return;
      }
      const closeClient = this.closeClient || this.pipeline.draining();
      const head = parseResponseHead(buffer.toString('latin1', 0, end), this.method, closeClient);
      if (typeof head === 'string') {
        this.badResponse(head);
        return;
      }
      if (head.status === 101) {
        this.badResponse('101 Switching Protocols to a request that did not ask to upgrade');
        return;
      }
      const rest = buffer.subarray(end + 4);
      if (head.interim) {
        this.interimSent = true;
        this.lastWrite = performance.now();
        client.write(head.downstream, 'latin1');
        buffer = rest;
        continue;
      }
      this.headBuffer = undefined;
      this.status = head.status;
      this.framing = head.framing;
      this.reusable = head.reusable;
      this.closeClient = head.close;
      if (head.framing.kind === 'length') this.remaining = head.framing.length;
      else if (head.framing.kind === 'chunked') this.chunks = new ChunkedScanner();
      if (head.framing.kind === 'none' || (head.framing.kind === 'length' && head.framing.length === 0)) {
        if (rest.length > 0) this.reusable = false;
        this.phase = Phase.Body;
        client.write(head.downstream, 'latin1');
        this.complete();
      } else if (rest.length > 0) {
        this.body(rest, head.downstream);
      } else {
        this.phase = Phase.Body;
        this.lastWrite = performance.now();
        client.write(head.downstream, 'latin1');
      }
      return;
    }
  }

  /**
   * Relays a piece of the response body, after `head` when the head and the start of the body
   * came in one read: a small body then goes out with its head in one buffer and one write, and a
   * body that is broken from its first bytes gets the client a 502 instead of a cut-off answer.
   */
  private body(chunk: Buffer, head?: string): void {
    const client = this.conn.socket;
    let data = chunk;
    let ended = false;
    switch (this.framing.kind) {
      case 'length':
        if (chunk.length >= this.remaining) {
          if (chunk.length > this.remaining) {
            // Bytes after the response: the connection is out of step, never reused.
            this.reusable = false;
            data = chunk.subarray(0, this.remaining);
          }
          ended = true;
        }
        this.remaining -= data.length;
        break;
      case 'chunked': {
        let end: number;
        try {
          end = this.chunks?.scan(chunk) ?? -1;
        } catch (error) {
          if (head === undefined) this.cutOff();
          else this.badResponse(`a malformed chunked body: ${(error as Error).message}`);
          return;
        }
        if (end >= 0) {
          ended = true;
          if (end < chunk.length) {
            this.reusable = false;
            data = chunk.subarray(0, end);
          }
        }
        break;
      }
      case 'close':
      case 'none':
        break;
    }
    this.phase = Phase.Body;
    this.lastWrite = performance.now();
    let room: boolean;
    if (head === undefined) {
      room = client.write(data);
    } else if (data.length <= JOIN_MAX) {
      const joined = Buffer.allocUnsafe(head.length + data.length);
      joined.write(head, 0, 'latin1');
      data.copy(joined, head.length);
      room = client.write(joined);
    } else {
      client.cork();
      client.write(head, 'latin1');
      room = client.write(data);
      client.uncork();
    }
    if (!room) this.up.socket.pause();
    if (ended) this.complete();
  }

  /** The pod ended its side of the connection. */
  onUpstreamEnd(): void {
    if (this.phase === Phase.Body && this.framing.kind === 'close') {
      this.reusable = false;
      this.complete();
    } else {
      this.onUpstreamError('ECONNRESET');
    }
  }

  onUpstreamError(code: string): void {
    if (this.phase === Phase.Done) return;
    if (this.phase === Phase.Body) {
      this.cutOff();
      return;
    }
    if (podGone(code)) this.ticket.backend.setAside(this.up.dest);
    const attempts = this.ticket.attempts;
    const delivery = deliveryOf(this.up.connected, this.up.reused, this.answered, code);
    if (this.interimSent || this.conn.ended || !mayResend(this.method, delivery, attempts)) {
      const unsafe = delivery !== 'unsent' && !isIdempotent(this.method);
      this.badResponse(
        `the pod closed the connection without answering (${code})` +
          (unsafe ? `; a ${this.method} request is not sent twice` : ''),
      );
      return;
    }
    // node:http serves the request again, on another pod if this one is gone, as the same
    // request: same revision, its attempts counted.
    this.detach(false);
    const pipeline = this.pipeline;
    pipeline.metrics.handover('unanswered');
    pipeline.admission.abandon(this.ticket);
    pipeline.leave(this.conn.socket, { routed: this.ticket, attempts });
    this.conn.replay(this.raw);
  }

  private complete(): void {
    const up = this.detach(this.reusable);
    if (up !== undefined) this.conn.fast.pool.put(up, performance.now());
    this.pipeline.admission.finish(this.ticket, this.status);
    this.conn.exchangeDone(this.closeClient);
  }

  /** A timeout (the pipeline's sweep calls this): 504 before the head went out, the end after. */
  timeout(why: string): void {
    this.pipeline.metrics.refusedRequest('timeout');
    if (this.phase === Phase.Body) this.endEarly();
    else this.refuse(504, why);
  }

  /**
   * Ends a response that began, at a timeout, where its framing lets it end (cleanEnd), and closes
   * the pod's connection, so that the pod sees the request cancelled. When it cannot end there,
   * the client's connection is closed instead.
   */
  private endEarly(): void {
    const ending = cleanEnd(this.framing, this.chunks);
    if (ending === undefined) {
      this.cutOff();
      return;
    }
    this.detach(false);
    if (ending !== '') this.conn.socket.write(ending, 'latin1');
    this.pipeline.admission.finish(this.ticket, this.status);
    this.conn.exchangeDone(this.closeClient || this.framing.kind === 'close');
  }

  private badResponse(why: string): void {
    this.pipeline.metrics.refusedRequest('upstream_error');
    this.refuse(502, `revision ${this.ticket.key}: error reaching the pod (${why})`);
  }

  /** Answers `code` when the response has not begun, otherwise cuts it off. */
  private refuse(code: number, why: string): void {
    if (this.phase === Phase.Done) return;
    if (this.phase === Phase.Body) {
      this.cutOff();
      return;
    }
    this.detach(false);
    const close = this.closeClient || this.pipeline.draining();
    this.conn.socket.write(gatewayAnswer(code, why, close, this.method === 'HEAD'), 'latin1');
    this.pipeline.admission.finish(this.ticket, code);
    this.conn.exchangeDone(close);
  }

  /** A response that broke off after it began: the client's connection ends with it. */
  private cutOff(): void {
    if (this.phase === Phase.Done) return;
    this.detach(false);
    this.pipeline.admission.finish(this.ticket, this.status);
    this.conn.socket.destroy();
  }

  /** The client went away: nothing more to relay. */
  abort(): void {
    if (this.phase === Phase.Done) return;
    const status = this.phase === Phase.Body ? this.status : CLIENT_CLOSED;
    this.detach(false);
    this.pipeline.admission.finish(this.ticket, status);
  }

  /** Ends the exchange's hold on the pod connection: returned when it may be reused, destroyed otherwise. */
  private detach(reusable: boolean): Upstream | undefined {
    this.phase = Phase.Done;
    this.pipeline.timeouts.delete(this);
    const up = this.up;
    up.exchange = undefined;
    if (up.socket.isPaused()) up.socket.resume();
    if (reusable) return up;
    up.socket.destroy();
    return undefined;
  }
}

/** One client connection while the fast path serves it. */
class Connection {
  readonly fast: FastPath;
  readonly socket: Socket;
  readonly listener: Listener;
  exchange: FastExchange | undefined;
  private pending: Buffer | undefined;
  /** How far the head at the front of `pending` has been checked. */
  private readonly progress: HeadProgress = { line: 0, checked: 0, lengths: 0 };
  /** When the first byte of the head at the front of `pending` came; 0 when none is pending. */
  private headSince = 0;
  /** The client shut down its sending side. */
  ended = false;
  private handedOff = false;
  private headTimer: NodeJS.Timeout | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.headSince === 0) this.headSince = performance.now();
    try {
      if (this.exchange === undefined) this.serveNext();
      else if (this.pending.length > MAX_READ_AHEAD) this.socket.pause();
    } catch (error) {
      this.broke(error);
    }
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.clearHeadTimer();
    this.pending = undefined;
    // As node:http does (httpAllowHalfOpen false): a client that ends its side has gone away.
    // With nothing in flight, what was pending was at most part of a head that could not complete.
    if (this.exchange === undefined) this.socket.end();
    else this.socket.destroy();
  };
  private readonly onClose = (): void => {
    this.clearHeadTimer();
    this.fast.connections.delete(this);
    this.exchange?.abort();
    this.exchange = undefined;
  };
  private readonly onDrain = (): void => {
    const up = this.exchange?.up.socket;
    if (up?.isPaused() === true) up.resume();
  };
  private readonly onTimeout = (): void => {
    if (this.exchange === undefined) this.socket.destroy();
  };
  private readonly onError = (): void => {
    this.socket.destroy();
  };

  constructor(fast: FastPath, socket: Socket, listener: Listener) {
    this.fast = fast;
    this.socket = socket;
    this.listener = listener;
    socket.setTimeout(fast.options.keepAliveTimeoutMs);
    for (const [event, listener] of this.listeners()) socket.on(event, listener);
  }

  /** The socket events the fast path listens to, taken off again when node:http takes over. */
  private listeners(): [string, (chunk: Buffer) => void][] {
    return [
      ['data', this.onData],
      ['end', this.onEnd],
      ['close', this.onClose],
      ['drain', this.onDrain],
      ['timeout', this.onTimeout],
      ['error', this.onError],
    ];
  }

  get idle(): boolean {
    return this.exchange === undefined && this.pending === undefined;
  }

  /**
   * A fault of the fast path itself: this connection ends (its exchange, if any, is settled by the
   * close) and the gateway goes on serving the others.
   */
  broke(error: unknown): void {
    this.fast.options.pipeline.log.error(
      { err: error, client: this.socket.remoteAddress, revision: this.exchange?.ticket.key },
      'fast path: connection closed after an internal error',
    );
    this.socket.destroy();
  }

  /** Starts the next request read, if a whole head is here; hands the connection over otherwise. */
  serveNext(): void {
    const pending = this.pending;
    if (pending === undefined || this.handedOff) return;
    const request = takeRequestHead(pending, this.progress);
    const { pipeline } = this.fast.options;
    if (request === 'partial') {
      this.armHeadTimer();
      return;
    }
    if (typeof request === 'string') {
      pipeline.metrics.handover(request);
      this.handOff();
      return;
    }
    const end = this.progress.end ?? 0;
    const routed = pipeline.route(this.listener, request.host, request.tag);
    if (!routed.ok) {
      // node:http answers it, with the same refusal: one place writes the gateway's answers.
      pipeline.metrics.handover('route');
      this.handOff();
      return;
    }
    const ticket = pipeline.admission.admitNow(routed);
    if (ticket === undefined) {
      pipeline.metrics.handover('no_room');
      pipeline.leave(this.socket, { routed, attempts: 0 });
      this.handOff();
      return;
    }
    this.clearHeadTimer();
    const raw = pending.subarray(0, end);
    this.pending = end === pending.length ? undefined : pending.subarray(end);
    this.progress.line = 0;
    this.progress.checked = 0;
    this.progress.lengths = 0;
    this.headSince = this.pending === undefined ? 0 : performance.now();
    const now = performance.now();
    const dest = ticket.reservation?.tracker.dest ?? '';
    const maxIdle = isIdempotent(request.method) ? POOL_IDLE_MS : FRESH_IDLE_MS;
    const up = this.fast.pool.take(dest, now, maxIdle);
    const exchange = new FastExchange(this, ticket, request, raw, up);
    ticket.attempts++;
    up.exchange = exchange;
    this.exchange = exchange;
    pipeline.timeouts.add(exchange);
    // To another replica, with the revision it is for: that replica owns the revision's pods.
    const passTo = ticket.reservation?.tracker.peer === true ? `${REVISION_HEADER}: ${ticket.key}\r\n` : '';
    up.socket.write(upstreamRequestHead(request, this.socket.remoteAddress, passTo), 'latin1');
  }

  exchangeDone(close: boolean): void {
    this.exchange = undefined;
    if (close || (this.ended && this.pending === undefined)) {
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.pending !== undefined) this.serveNext();
  }

  /** The request goes to node:http again, and the connection with it. */
  replay(raw: Buffer): void {
    this.exchange = undefined;
    this.pending = this.pending === undefined ? raw : Buffer.concat([raw, this.pending]);
    this.headSince = 0;
    this.handOff();
  }

  /**
   * node:http takes the connection over, with what has been read and not served put back in
   * front of the socket's stream. A connection never comes back to the fast path. A head still
   * arriving keeps what is left of its time: node:http's own headersTimeout would start anew.
   */
  private handOff(): void {
    this.handedOff = true;
    this.clearHeadTimer();
    const socket = this.socket;
    if (this.ended) {
      // A stream cannot be given back data after its end; such a client gets no more answers.
      socket.destroy();
      return;
    }
    this.fast.connections.delete(this);
    for (const [event, listener] of this.listeners()) socket.off(event, listener);
    socket.setTimeout(0);
    socket.pause();
    if (this.headSince !== 0) {
      this.fast.watchHead(socket, this.fast.options.headersTimeoutMs - (performance.now() - this.headSince));
    }
    if (this.pending !== undefined) socket.unshift(this.pending);
    this.pending = undefined;
    this.fast.options.fallback.emit('connection', socket);
    socket.resume();
  }

  private armHeadTimer(): void {
    if (this.headTimer !== undefined) return;
    const left = this.fast.options.headersTimeoutMs - (performance.now() - this.headSince);
    this.headTimer = setTimeout(() => {
      this.headTimer = undefined;
      this.fast.headTimedOut(this.socket);
    }, left);
  }

  private clearHeadTimer(): void {
    if (this.headTimer === undefined) return;
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }
}

export class FastPath {
  readonly options: FastPathOptions;
  readonly server: Server;
  readonly pool = new UpstreamPool();
  readonly connections = new Set<Connection>();
  /** Connections handed to node:http with a head still arriving, and the timer on what is left of its time. */
  private readonly headWatch = new Map<Socket, NodeJS.Timeout>();

  constructor(options: FastPathOptions) {
    this.options = options;
    // allowHalfOpen: a client that sends its request and shuts down its side still gets the answer.
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (options.accept !== undefined && !options.accept(socket.remoteAddress)) {
        socket.destroy();
        return;
      }
      const listener = options.listener;
      if (listener === 'peer') {
        this.options.fallback.emit('connection', socket);
        return;
      }
      this.connections.add(new Connection(this, socket, listener));
    });
    const fallback = options.fallback;
    // node:http checks headersTimeout on the connections it holds only once it has seen
    // 'listening'; it never listens itself here, so it is told.
    fallback.emit('listening');
    // A head that node:http read in full (or refused) is no longer the fast path's to time.
    const headDone = (req: IncomingMessage): void => {
      this.headSeen(req.socket);
    };
    fallback.prependListener('request', headDone);
    fallback.prependListener('upgrade', headDone);
    fallback.prependListener('connect', headDone);
    fallback.prependListener('clientError', (_error: Error, socket: Socket) => {
      this.headSeen(socket);
    });
  }

  listen(port: number, host?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting connections; the open ones go on. */
  close(): void {
    this.server.close();
  }

  /** Closes the client connections with nothing in flight (node:http's closeIdleConnections). */
  closeIdleConnections(): void {
    for (const conn of this.connections) if (conn.idle) conn.socket.destroy();
    this.options.fallback.closeIdleConnections();
  }

  /** After close(): the pods' pooled connections and the head timers. */
  destroy(): void {
    for (const timer of this.headWatch.values()) clearTimeout(timer);
    this.headWatch.clear();
    this.pool.destroy();
    this.options.fallback.close();
  }

  /** The head on `socket` did not arrive in full within headersTimeoutMs (RFC 9110 §15.5.9). */
  headTimedOut(socket: Socket): void {
    this.headWatch.delete(socket);
    if (socket.destroyed) return;
    this.options.pipeline.metrics.refusedRequest('timeout');
    socket.end(
      gatewayAnswer(
        408,
        `the request head did not arrive within ${this.options.headersTimeoutMs / 1000} s`,
        true,
      ),
      'latin1',
    );
    socket.destroySoon();
  }

  /** node:http has `socket` now, with a head that must still arrive within `ms`. */
  watchHead(socket: Socket, ms: number): void {
    const timer = setTimeout(
      () => {
        this.headTimedOut(socket);
      },
      Math.max(0, ms),
    );
    this.headWatch.set(socket, timer);
    socket.once('close', () => {
      this.headSeen(socket);
    });
  }

  private headSeen(socket: Socket): void {
    const timer = this.headWatch.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.headWatch.delete(socket);
  }
}
