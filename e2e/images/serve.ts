// Listening and graceful termination for the test apps in this directory: an app supplies its
// request handler; this module reads HOST and PORT, prints the "listening" line the harness waits
// for, and on SIGTERM or SIGINT stops accepting, lets in-flight requests finish, then exits 0.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface ServeOptions {
  /** Wait this long before listening (dev.local/slowstart). A signal during the wait exits 0 at once. */
  delayMs?: number;
  /** Takes requests that ask to upgrade the connection (dev.local/echo). */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

// Set on the first signal. Node keeps a busy keep-alive connection open after its response even
// while the server closes, so every response written from then on asks the client to hang up;
// otherwise the exit would wait out the keep-alive timeout.
let draining = false;

/** Prints one line to stdout; the harness and the node agent's logs read these. */
export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Ends the process with a one-line reason on stderr, for configuration a user must fix. */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** A non-negative integer from the environment, or the fallback when the variable is unset. */
export function intFromEnv(app: string, variable: string, fallback: number, max: number): number {
  const raw = process.env[variable];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > max) {
    fail(`${app}: ${variable} must be an integer from 0 to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Splits a request target into its path and query without resolving it against a base URL
 * (which would read "//x" as a host name). */
export function parseTarget(url = '/'): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  if (q === -1) return { path: url, query: new URLSearchParams() };
  return { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}

export function sendText(res: ServerResponse, status: number, body: string): void {
  send(res, status, 'text/plain; charset=utf-8', body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...(draining ? { connection: 'close' } : {}),
  });
  res.end(body);
}

export function serve(app: string, handler: Handler, options: ServeOptions = {}): void {
  const host = process.env.HOST ?? '0.0.0.0';
  const port = intFromEnv(app, 'PORT', 8080, 65535);

  const server = createServer((req, res) => {
    try {
      const pending = handler(req, res);
      if (pending) {
        pending.catch((err: unknown) => {
          internalError(app, res, err);
        });
      }
    } catch (err) {
      internalError(app, res, err);
    }
  });
  server.on('error', (err) => fail(`${app}: cannot listen on ${host}:${port}: ${err.message}`));
  if (options.upgrade !== undefined) server.on('upgrade', options.upgrade);

  let delay: NodeJS.Timeout | undefined;
  const shutdown = (signal: NodeJS.Signals): void => {
    // A second signal changes nothing: the drain is already under way, and the kubelet (here the
    // node agent) sends SIGKILL when the grace period runs out.
    if (draining) return;
    draining = true;
    clearTimeout(delay);
    if (!server.listening) {
      log(`${app} received ${signal} before listening, exiting`);
      process.exit(0);
    }
    // close() stops accepting and drops idle keep-alive connections; its callback runs once the
    // last in-flight request has been answered and its connection closed. The line comes after
    // close(), so whoever reads it knows that new connections are refused.
    server.close(() => {
      log(`${app} stopped`);
      process.exit(0);
    });
    log(`${app} received ${signal}, draining`);
  };
  // Handlers first: a signal must never meet Node's default (death by signal), not even during a delay.
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  const listen = (): void => {
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      log(`${app} listening on ${host.includes(':') ? `[${host}]` : host}:${bound}`);
    });
  };
  if (options.delayMs === undefined) {
    listen();
  } else {
    log(`${app} waiting ${options.delayMs} ms before listening`);
    delay = setTimeout(listen, options.delayMs);
  }
}

function internalError(app: string, res: ServerResponse, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${app}: ${message}\n`);
  if (res.headersSent) res.destroy();
  else sendText(res, 500, `${message}\n`);
}
