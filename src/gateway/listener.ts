// One of the gateway's listening ports, put together: the fast path reads each connection first,
// and node:http (configured here, once, for production and tests alike) takes over what the fast
// path declines. node:http's refusals of a head get the gateway's answers: 400, 408 and 431 by
// llhttp's error, 405 for CONNECT (the gateway is no forward proxy).
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { FastPath } from './fast-path.ts';
import { isWebsocketUpgrade } from './forwarder.ts';
import { answerSocket } from './gateway-answers.ts';
import type { NodeHttpPath } from './node-http-path.ts';
import type { Entry, Pipeline } from './pipeline.ts';

export interface ListenerOptions {
  listener: Entry;
  /** Whether a client at this address may connect (the peer listener's check). */
  accept?: (address: string | undefined) => boolean;
  pipeline: Pipeline;
  httpPath: NodeHttpPath;
  /** An idle client connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** A request head must arrive in full within this long, whichever path reads it. */
  headersTimeoutMs: number;
}

export function createListener(options: ListenerOptions): FastPath {
  const { listener, pipeline, httpPath } = options;
  const fallback = createServer({
    requestTimeout: 0,
    headersTimeout: options.headersTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // Other upgrades (h2c) come in as plain requests instead of a dropped connection.
    shouldUpgradeCallback: isWebsocketUpgrade,
  });
  fallback.on('request', httpPath.web(listener));
  fallback.on('upgrade', httpPath.upgrade(listener));
  fallback.on('connect', (_req: IncomingMessage, socket: Socket) => {
    pipeline.metrics.refusedRequest('bad_request');
    answerSocket(socket, 405, 'CONNECT is not served: the gateway is not a forward proxy');
  });
  fallback.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    httpPath.refuseBytes(socket, error.code);
  });
  return new FastPath({
    listener,
    ...(options.accept === undefined ? {} : { accept: options.accept }),
    pipeline,
    fallback,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
  });
}
