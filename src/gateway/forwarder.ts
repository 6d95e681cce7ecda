// The node:http path's exchange with a pod: one HTTP request sent on over node:http with a
// keep-alive Agent, both bodies streamed, and the pod's answer relayed through node:http's
// response. The rules are hop-by-hop.ts's, the same the fast path applies to raw heads: hop-by-hop
// fields and those Connection names stay on their own connection (a client's `Connection: close`
// would otherwise close the pooled connection to the pod), the framing fields are never dropped
// for being named, and a response's transfer codings other than chunked reach the client. 1xx
// answers are relayed; a 101 that was not asked for is an error. Websocket upgrades do not come
// here; node-http-path.ts tunnels them.
import {
  request,
  type Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { HeaderRecord } from './forward-headers.ts';
import { isHopField, listedFields, transferCodings } from './hop-by-hop.ts';
import { deliveryOf, type Delivery } from './replay.ts';

/** The request fields to send to the pod: `headers` without this hop's. Transfer-Encoding stays. */
export function upstreamHeaders(headers: Readonly<HeaderRecord>): OutgoingHttpHeaders {
  const listed = listedFields(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || isHopField(name, listed)) continue;
    out[name] = value;
  }
  return out;
}

/** For a websocket upgrade: the fields upstreamHeaders keeps, and the upgrade asked for. */
export function upgradeRequestHeaders(headers: Readonly<HeaderRecord>): OutgoingHttpHeaders {
  const out = upstreamHeaders(headers);
  out.connection = 'upgrade';
  const upgrade = headers.upgrade;
  if (upgrade !== undefined) out.upgrade = typeof upgrade === 'string' ? upgrade : upgrade.join(', ');
  return out;
}

/**
 * The pod's response fields for the client: without this hop's, plus `Connection: close` when the
 * client's connection should end after this response. node:http frames the body again, so a
 * Transfer-Encoding of chunked alone is left to it; one with other codings goes on as it came.
 */
export function downstreamHeaders(
  headers: Readonly<IncomingHttpHeaders>,
  close: boolean,
): OutgoingHttpHeaders {
  const listed = listedFields(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || isHopField(name, listed)) continue;
    if (name === 'transfer-encoding' && transferCodings(value).every((c) => c === 'chunked')) continue;
    out[name] = value;
  }
  if (close) out.connection = 'close';
  return out;
}

/** For a 101 to a websocket upgrade: the pod's fields without this hop's, and the upgrade it accepted. */
export function upgradeResponseHeaders(headers: Readonly<IncomingHttpHeaders>): IncomingHttpHeaders {
  const out = downstreamHeaders(headers, false) as IncomingHttpHeaders;
  out.connection = 'Upgrade';
  if (headers.upgrade !== undefined) out.upgrade = headers.upgrade;
  return out;
}

/** A body that runs until the pod closes: Transfer-Encoding whose last coding is not chunked. */
function closeDelimited(headers: Readonly<IncomingHttpHeaders>): boolean {
  const te = headers['transfer-encoding'];
  return te !== undefined && transferCodings(te).at(-1) !== 'chunked';
}

/**
 * True for a GET asking for a websocket (RFC 6455 §4.1), the one upgrade the gateway tunnels. Any
 * other (e.g. `Upgrade: h2c` from `curl --http2`, or a websocket upgrade on another method) is
 * served as the plain HTTP/1.1 request it also is, as RFC 9110 §7.8 lets a server do.
 */
export function isWebsocketUpgrade(req: Pick<IncomingMessage, 'headers' | 'method'>): boolean {
  const upgrade = req.headers.upgrade;
  return (
    req.method === 'GET' &&
    upgrade !== undefined &&
    upgrade.split(',').some((p) => p.trim().toLowerCase() === 'websocket')
  );
}

export interface ForwardOptions {
  host: string;
  port: number;
  agent: Agent;
  /** The request headers to send on, already with X-Forwarded-* (see forwardHeaders). */
  headers: Readonly<HeaderRecord>;
  /** The request to the pod exists; its body has not been sent yet. */
  onRequest: (upstream: ClientRequest) => void;
  /** The pod's response has started; return true to ask the client to close its connection. */
  onResponse: (upstream: IncomingMessage) => boolean;
  /** Something went to the client: a 1xx or body bytes (onResponse stands for the head). */
  onWrite: () => void;
  /**
   * The pod could not be reached, or the exchange broke (before or after the response started),
   * with how far the request got.
   */
  onError: (error: NodeJS.ErrnoException, delivery: Delivery) => void;
}

/** An answer that cannot be relayed: the exchange fails with 502, naming why. */
class MalformedAnswer extends Error {
  readonly code = 'EMALFORMED';
}

/** Why the pod's parsed answer cannot go to the client, or undefined when it can. */
function unrelayable(answer: IncomingMessage): string | undefined {
  const status = answer.statusCode ?? 0;
  if (answer.httpVersionMajor !== 1) return `an HTTP/${answer.httpVersion} status line`;
  if (status === 101) return '101 Switching Protocols to a request that did not ask to upgrade';
  if (status < 200 || status > 999) return `a final answer with status ${String(status)}`;
  return undefined;
}

/** Sends `req` on to the pod and streams the pod's answer into `res`. */
export function forward(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): void {
  const upstream = request({
    host: options.host,
    port: options.port,
    method: req.method,
    path: req.url,
    headers: upstreamHeaders(options.headers),
    agent: options.agent,
  });
  let failed = false;
  let connected = false;
  let answered = false;
  let response: IncomingMessage | undefined;
  const fail = (error: NodeJS.ErrnoException): void => {
    // Bytes after a whole answer (llhttp reads them as the next one): this exchange is complete,
    // and node:http drops the connection.
    if (failed || response?.complete === true) return;
    failed = true;
    options.onError(error, deliveryOf(connected, upstream.reusedSocket, answered, error.code ?? ''));
  };
  options.onRequest(upstream);
  upstream.on('socket', (socket: Socket) => {
    if (!socket.connecting) connected = true;
    else
      socket.once('connect', () => {
        connected = true;
      });
  });
  upstream.on('error', fail);
  upstream.on('information', (info) => {
    answered = true;
    if (relayInterim(res, info.statusCode, info.headers)) options.onWrite();
  });
  upstream.on('upgrade', (_answer: IncomingMessage, socket: Socket) => {
    answered = true;
    socket.destroy();
    fail(new MalformedAnswer('101 Switching Protocols to a request that did not ask to upgrade'));
  });
  upstream.on('response', (answer) => {
    answered = true;
    response = answer;
    // The head goes to the client once llhttp is done with the bytes that brought it: a body
    // broken from its first bytes then fails the exchange (502) before the client sees a 200.
    queueMicrotask(() => {
      if (failed || res.destroyed || res.headersSent) {
        answer.destroy();
        return;
      }
      const problem = unrelayable(answer);
      try {
        if (problem === undefined) {
          relayResponse(res, answer, options);
          return;
        }
      } catch (error) {
        // node:http refused the status or reason before writing anything.
        answer.destroy();
        response = undefined;
        fail(new MalformedAnswer(`a malformed status line: ${(error as Error).message}`));
        return;
      }
      answer.destroy();
      response = undefined;
      fail(new MalformedAnswer(problem));
    });
  });
  // A client that goes away mid-request ends the exchange with the pod too.
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  // Most requests have no body: end the pod's request at once rather than through a pipe, whose
  // listeners and ticks were a tenth of what the gateway allocated per request.
  if (hasBody(req)) {
    req.pipe(upstream);
  } else {
    upstream.end();
  }
}

function relayResponse(res: ServerResponse, answer: IncomingMessage, options: ForwardOptions): void {
  const runsToClose = closeDelimited(answer.headers);
  const close = options.onResponse(answer) || runsToClose;
  res.writeHead(answer.statusCode ?? 502, answer.statusMessage, downstreamHeaders(answer.headers, close));
  // Codings that end with the pod's close: node:http would chunk the body, as the field names
  // chunked; it goes on as it came instead, and the connection closes after it.
  if (runsToClose) res.chunkedEncoding = false;
  // A break on either side destroys both: a client that went away frees nothing for reuse, and
  // a pod that broke off mid-body leaves the client a cut-off response, as it must. The body is
  // relayed by four listeners with backpressure: stream.pipeline allocates an AbortController and
  // a DOMException per call (5 % of the gateway's CPU in a profile), and pipe() a dozen closures.
  // A response the gateway ended itself (a timeout ends it and then drops the pod) is left to finish.
  answer.on('error', () => {
    if (!res.writableEnded) res.destroy();
  });
  res.once('close', () => {
    if (!answer.complete) answer.destroy();
  });
  answer.on('data', (chunk: Buffer) => {
    options.onWrite();
    if (!res.write(chunk)) answer.pause();
  });
  res.on('drain', () => answer.resume());
  answer.once('end', () => res.end());
}

/**
 * A 1xx from the pod, relayed before the final answer (RFC 9110 §15.2): 103 Early Hints with its
 * fields, 102 Processing. 100 Continue is node:http's own to send, when the client expects it.
 * True when something went to the client.
 */
function relayInterim(res: ServerResponse, status: number, headers: IncomingHttpHeaders): boolean {
  if (res.headersSent || res.destroyed || res.req.httpVersionMinor === 0) return false;
  if (status === 103) {
    const hints: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) hints[name] = value;
    if (hints.link === undefined) return false;
    res.writeEarlyHints(hints);
    return true;
  }
  if (status === 102) {
    res.writeProcessing();
    return true;
  }
  return false;
}

/** Whether a request carries a body (RFC 9112 §6.3: only Content-Length or Transfer-Encoding say so). */
export function hasBody(req: Pick<IncomingMessage, 'headers'>): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
