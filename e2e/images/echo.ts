// dev.local/echo: answers every request with what it received and the Knative environment the
// revision set, so a test can see exactly what reached the pod. GET /proxy?url=U fetches U from
// inside the pod, to test what a pod can reach.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTarget, sendJson, serve } from './serve.ts';

const PROXY_TIMEOUT_MS = 10_000;

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

serve('echo', handle);
