// dev.local/echo: answers every request with what it received and the Knative environment the
// revision set, so a test can see exactly what reached the pod. GET /proxy?url=U fetches U from
// inside the pod, to test what a pod can reach. A websocket upgrade is accepted (101 with its
// Sec-WebSocket-Accept) and the connection then sends back every byte it gets, frames unread: enough
// to test that the gateway tunnels upgraded connections both ways.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseTarget, sendJson, serve } from './serve.ts';

const PROXY_TIMEOUT_MS = 10_000;
/** RFC 6455's constant for Sec-WebSocket-Accept. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// Unset variables are null rather than missing, so the answer always has the same keys.
const env = {
  K_SERVICE: process.env.K_SERVICE ?? null,
  K_CONFIGURATION: process.env.K_CONFIGURATION ?? null,
  K_REVISION: process.env.K_REVISION ?? null,
  PORT: process.env.PORT ?? null,
};

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { path, query } = parseTarget(req.url);
  if (req.method === 'GET' && path === '/proxy') {
    await proxy(res, query.get('url'));
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  sendJson(res, 200, {
    method: req.method,
    path,
    // A repeated parameter keeps its last value.
    query: Object.fromEntries(query),
    headers: req.headers,
    body: Buffer.concat(chunks).toString('utf8'),
    env,
  });
}

async function proxy(res: ServerResponse, url: string | null): Promise<void> {
  if (url === null || url === '') {
    sendJson(res, 400, { error: 'missing query parameter url' });
    return;
  }
  let answer: { status: number; body: string };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROXY_TIMEOUT_MS) });
    answer = { status: response.status, body: await response.text() };
  } catch (err) {
    sendJson(res, 502, { error: describe(err) });
    return;
  }
  sendJson(res, 200, answer);
}

/** fetch reports only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, ...) is in its cause. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}

function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const key = req.headers['sec-websocket-key'];
  if (req.headers.upgrade?.toLowerCase() !== 'websocket' || key === undefined) {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${key}${WEBSOCKET_GUID}`).digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`,
  );
  if (head.length > 0) socket.write(head);
  socket.pipe(socket);
}

serve('echo', handle, { upgrade });
