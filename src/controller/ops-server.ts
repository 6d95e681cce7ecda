// The plain-HTTP port every ebb component serves besides its real work: Prometheus metrics at
// /metrics, liveness at /healthz (the process answers) and readiness at /readyz (the component's
// own notion of ready, e.g. caches synced).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export function createOpsServer(registry: Registry, ready: () => boolean, notReady = 'not ready'): Server {
  return createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType }).end(body);
        },
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/healthz') res.writeHead(200).end('ok\n');
    else if (req.url === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : `${notReady}\n`);
    } else res.writeHead(404).end();
  });
}
