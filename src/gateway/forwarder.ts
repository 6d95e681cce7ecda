// The gateway's warm path: one HTTP request sent on to a pod over node:http with a keep-alive
// Agent, both bodies streamed. Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own connection:
// the client's Connection, Keep-Alive or TE never reach the pod (a client's `Connection: close`
// would otherwise close the pooled connection to it), and the pod's never reach the client.
// Websocket upgrades do not come here; the proxy handler tunnels them.
import {
  request,
  type Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { HeaderRecord } from './forward-headers.ts';

/** Hop-by-hop headers; Transfer-Encoding is handled apart (it frames the body being relayed). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);

/** The header names a Connection header lists: hop-by-hop for this message too. */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const tokens = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : (value ?? '')).split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '') tokens.add(token);
  }
  return tokens;
}

/**
 * The headers to send to the pod: `headers` without hop-by-hop ones. Transfer-Encoding stays, so
 * that a chunked request body is sent on chunked whatever its method.
 */
export function upstreamHeaders(headers: Readonly<HeaderRecord>): OutgoingHttpHeaders {
  const listed = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The headers to answer the client with: the pod's without hop-by-hop ones and without
 * Transfer-Encoding (node:http frames the relayed body itself), plus `Connection: close` when the
 * client's connection should end after this response.
 */
export function downstreamHeaders(
  headers: Readonly<IncomingHttpHeaders>,
  close: boolean,
): OutgoingHttpHeaders {
  const listed = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || name === 'transfer-encoding')
      continue;
    out[name] = value;
  }
  if (close) out.connection = 'close';
  return out;
}

/**
 * True for a request asking for a websocket, the one upgrade the gateway tunnels. Any other (e.g.
 * `Upgrade: h2c` from `curl --http2`) is served as the plain HTTP/1.1 request it also is, as RFC
 * 9110 §7.8 lets a server do.
 */
export function isWebsocketUpgrade(req: Pick<IncomingMessage, 'headers'>): boolean {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.split(',').some((p) => p.trim().toLowerCase() === 'websocket');
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
  /** The pod could not be reached, or the exchange broke (before or after the response started). */
  onError: (error: Error) => void;
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
  const fail = (error: Error): void => {
    if (failed) return;
    failed = true;
    options.onError(error);
  };
  options.onRequest(upstream);
  upstream.on('error', fail);
  upstream.on('response', (answer) => {
    const close = options.onResponse(answer);
    if (res.destroyed || res.headersSent) {
      answer.destroy();
      return;
    }
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, downstreamHeaders(answer.headers, close));
    // A break on either side destroys both: a client that went away frees nothing for reuse, and
    // a pod that broke off mid-body leaves the client a cut-off response, as it must. The body is
    // relayed by four listeners with backpressure: stream.pipeline allocates an AbortController and
    // a DOMException per call (5 % of the gateway's CPU in a profile), and pipe() a dozen closures.
    answer.on('error', () => res.destroy());
    res.once('close', () => {
      if (!answer.complete) answer.destroy();
    });
    answer.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) answer.pause();
    });
    res.on('drain', () => answer.resume());
    answer.once('end', () => res.end());
  });
  // A client that goes away mid-request ends the exchange with the pod too.
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  // Most requests have no body: end the pod's request at once rather than through a pipe, whose
  // listeners and ticks were a tenth of what the gateway allocated per request.
  if (hasBody(req)) req.pipe(upstream);
  else upstream.end();
}

/** Whether a request carries a body (RFC 9112 §6.3: only Content-Length or Transfer-Encoding say so). */
export function hasBody(req: Pick<IncomingMessage, 'headers'>): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
