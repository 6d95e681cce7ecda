// The webhook's HTTPS server: an express app that hands AdmissionReviews to admission.ts and answers
// every failure (bad JSON, wrong content type, an oversized body) as an AdmissionReview too. The
// serving certificate can be swapped while running; new connections get the new one.
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import {
  malformedReview,
  review,
  type AdmissionContext,
  type AdmissionHandlerName,
  type ReviewOutcome,
} from './admission.ts';
import type { CertificateAndKey } from './certificates.ts';

/** The API server sends at most 3 MiB of object; its review envelope fits in the same limit. */
export const BODY_LIMIT = '3mb';

export const ROUTES: Readonly<Record<string, AdmissionHandlerName>> = {
  '/defaulting': 'defaulting',
  '/validation': 'validation',
  '/config-validation': 'config-validation',
};

export interface WebhookServerOptions {
  certificate: CertificateAndKey;
  admission: AdmissionContext;
  logger: Logger;
  /** Whether to report ready (config loaded, not draining); defaults to always. */
  ready?: () => boolean;
  /** Called after every review, e.g. for metrics. */
  onReview?: (handler: AdmissionHandlerName, outcome: ReviewOutcome, seconds: number) => void;
}

function send(res: Response, outcome: ReviewOutcome): void {
  res.status(outcome.httpStatus).json(outcome.body);
}

/** Body-parser errors carry an HTTP status and a type; anything else is our fault. */
function describeBodyError(error: unknown): { status: number; message: string } {
  const { status, type, message } = error as { status?: unknown; type?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  if (type === 'entity.too.large')
    return { status: 413, message: `malformed AdmissionReview: body larger than ${BODY_LIMIT}` };
  if (type === 'entity.parse.failed')
    return { status: 400, message: `malformed AdmissionReview: body is not valid JSON: ${text}` };
  if (typeof status === 'number' && status >= 400 && status < 500)
    return { status, message: `malformed AdmissionReview: ${text}` };
  return { status: 500, message: `internal error: ${text}` };
}

export function createWebhookApp(options: WebhookServerOptions): Express {
  const { admission, logger, onReview } = options;
  const ready = options.ready ?? (() => true);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    if (ready()) res.type('text/plain').send('ok\n');
    else res.status(503).type('text/plain').send('not ready\n');
  });

  const requireJson = (req: Request, res: Response, next: NextFunction): void => {
    const type = req.is('application/json');
    if (type === 'application/json') {
      next();
      return;
    }
    const outcome =
      type === null
        ? malformedReview('malformed AdmissionReview: empty body')
        : malformedReview(
            `malformed AdmissionReview: expected Content-Type application/json, got ${req.get('content-type') ?? 'none'}`,
            '',
            415,
          );
    logger.warn({ path: req.path, message: outcome.message }, 'rejected admission request');
    send(res, outcome);
  };
  const json = express.json({ limit: BODY_LIMIT, strict: true, type: 'application/json' });

  for (const [path, handler] of Object.entries(ROUTES)) {
    app.post(path, requireJson, json, async (req: Request, res: Response) => {
      const started = performance.now();
      const outcome = await review(handler, req.body, admission);
      const seconds = (performance.now() - started) / 1000;
      send(res, outcome);
      const uid = outcome.body.response.uid;
      const fields = {
        handler,
        uid,
        kind: outcome.kind,
        namespace: outcome.namespace,
        name: outcome.name,
        operation: outcome.operation,
        allowed: outcome.allowed,
        ...(outcome.message === undefined ? {} : { message: outcome.message }),
        ms: Math.round(seconds * 10_000) / 10,
      };
      if (outcome.httpStatus === 200) logger.info(fields, 'admission review');
      else logger.warn(fields, 'malformed admission review');
      onReview?.(handler, outcome, seconds);
    });
  }

  app.use((req: Request, res: Response) => {
    res.status(404).type('text/plain').send(`no route for ${req.method} ${req.path}\n`);
  });
  // Express recognises error handlers by their four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, message } = describeBodyError(error);
    if (status >= 500) logger.error({ path: req.path, err: error }, 'admission request failed');
    else logger.warn({ path: req.path, message }, 'rejected admission request');
    if (res.headersSent) return;
    send(res, malformedReview(message, '', status));
  });
  return app;
}

export class WebhookServer {
  readonly server: Server;

  constructor(options: WebhookServerOptions) {
    const { cert, key } = options.certificate;
    this.server = createServer({ cert, key, minVersion: 'TLSv1.2' }, createWebhookApp(options));
  }

  /** Presents `certificate` on every connection from now on; open connections keep theirs. */
  setCertificate(certificate: CertificateAndKey): void {
    this.server.setSecureContext({ cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' });
  }

  async listen(port: number, host?: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /**
   * Stops accepting connections and waits for requests in flight; connections still open after
   * `graceMs` are cut.
   */
  async close(graceMs = 10_000): Promise<void> {
    const timer = setTimeout(() => {
      this.server.closeAllConnections();
    }, graceMs);
    try {
      await new Promise<void>((resolve) => {
        this.server.close(() => {
          resolve();
        });
        this.server.closeIdleConnections();
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
