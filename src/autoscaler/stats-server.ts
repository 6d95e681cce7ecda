// The autoscaler's stats endpoint: POST /v1/stats with a gateway's report (JSON, bearer token).
// A bad token gets 401, a malformed body 400 naming the field, an oversized one 413; a good report
// is handed to `onReport` and answered 204. Each request stands alone, so either side can restart
// and the next second's report simply arrives again.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Logger } from 'pino';
import { STATS_PATH, WireReport } from './stats-wire.ts';
import type { AuthResult } from './token-auth.ts';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface StatsServerOptions {
  authenticate: (authorization: string | undefined) => Promise<AuthResult>;
  onReport: (report: WireReport) => void;
  log: Logger;
}

export function createStatsServer(options: StatsServerOptions): Server {
  const server = createServer((req, res) => {
    void handle(req).then(
      ({ status, body }) => {
        if (body === undefined) res.writeHead(status).end();
        else res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${body}\n`);
      },
      (error: unknown) => {
        options.log.warn({ error: String(error) }, 'stats request failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage): Promise<{ status: number; body?: string }> {
    if (req.url === '/healthz') return { status: 200, body: 'ok' };
    if (req.url !== STATS_PATH) return { status: 404, body: `no such path; stats go to POST ${STATS_PATH}` };
    if (req.method !== 'POST') return { status: 405, body: `use POST ${STATS_PATH}` };
    const auth = await options.authenticate(req.headers.authorization);
    if (!auth.ok) {
      req.resume();
      return { status: 401, body: `unauthorized: ${auth.reason}` };
    }
    const raw = await readBody(req);
    if (raw === undefined) return { status: 413, body: `report larger than ${MAX_BODY_BYTES} bytes` };
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return { status: 400, body: 'report is not JSON' };
    }
    const parsed = WireReport.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { status: 400, body: `report.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
    }
    options.onReport(parsed.data);
    return { status: 204 };
  }

  return server;
}

/** The body as text, or undefined once it passes the size bound (the rest is drained). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
