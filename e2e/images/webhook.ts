// dev.local/webhook: a validating admission webhook over HTTPS, for testing that the cluster calls
// Service-referenced webhooks. It denies objects labelled `e2e-deny: "true"` and allows the rest.
// TLS_CERT_FILE and TLS_KEY_FILE name its serving certificate; PORT defaults to 8443.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { fail, intFromEnv, log } from './serve.ts';

interface AdmissionReview {
  request?: { uid?: string; object?: { metadata?: { name?: string; labels?: Record<string, string> } } };
}

const certFile = process.env.TLS_CERT_FILE ?? fail('webhook: set TLS_CERT_FILE to the serving certificate');
const keyFile = process.env.TLS_KEY_FILE ?? fail('webhook: set TLS_KEY_FILE to the serving key');
const port = intFromEnv('webhook', 'PORT', 8443, 65535);
const host = process.env.HOST ?? '0.0.0.0';

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    let review: AdmissionReview;
    try {
      review = JSON.parse(body) as AdmissionReview;
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('expected an AdmissionReview\n');
      return;
    }
    const object = review.request?.object;
    const denied = object?.metadata?.labels?.['e2e-deny'] === 'true';
    log(`webhook reviewed ${object?.metadata?.name ?? '<unnamed>'}: ${denied ? 'denied' : 'allowed'}`);
    const response = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: review.request?.uid ?? '',
        allowed: !denied,
        ...(denied
          ? { status: { code: 403, message: 'denied by the e2e webhook: label e2e-deny is "true"' } }
          : {}),
      },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
  });
});

server.listen(port, host, () => {
  log(`webhook listening on ${host}:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    log(`webhook received ${signal}, stopping`);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
