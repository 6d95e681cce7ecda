// The part of the kubelet API that `kubectl logs` needs: GET /containerLogs/{ns}/{pod}/{container}
// over TLS, for clients with a certificate from the cluster CA (the apiserver's kubelet client).
// A request that fails (a malformed path, a log removed while it is followed) ends that request.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { BRIDGE_IP, PORTS } from '../topology.ts';

export type LogLocator = (namespace: string, pod: string, container: string) => string | undefined;

export function startLogServer(pkiDir: string, locate: LogLocator): Server {
  const server = createServer(
    {
      key: readFileSync(join(pkiDir, 'kubelet.key')),
      cert: readFileSync(join(pkiDir, 'kubelet.crt')),
      ca: readFileSync(join(pkiDir, 'ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      try {
        serveLog(req, res, locate);
      } catch (error) {
        if (!res.headersSent) res.writeHead(400);
        res.end(`${(error as Error).message}\n`);
      }
    },
  );
  server.listen(PORTS.kubelet, BRIDGE_IP);
  return server;
}

function serveLog(req: IncomingMessage, res: ServerResponse, locate: LogLocator): void {
  const url = new URL(req.url ?? '/', 'https://node');
  const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (req.method !== 'GET' || match === null) {
    res.writeHead(404).end('not found\n');
    return;
  }
  const [, namespace = '', pod = '', container = ''] = match.map(decodeURIComponent);
  const file = locate(namespace, pod, container);
  if (file === undefined) {
    res.writeHead(404).end(`container "${container}" in pod "${pod}" is not running on this node\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  const tail = Number(url.searchParams.get('tailLines') ?? '-1');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '';
  }
  const lines = text.split('\n');
  const shown = tail >= 0 ? lines.slice(Math.max(0, lines.length - 1 - tail)).join('\n') : text;
  if (url.searchParams.get('follow') !== 'true') {
    res.end(shown);
    return;
  }
  res.write(shown);
  // Follow through an open descriptor: the pod's files are removed when it is deleted, and
  // the last lines written before that must still reach the client.
  const fd = openSync(file, 'r');
  let offset = Buffer.byteLength(text);
  const buffer = Buffer.alloc(64 * 1024);
  const timer = setInterval(() => {
    try {
      let n: number;
      while ((n = readSync(fd, buffer, 0, buffer.length, offset)) > 0) {
        res.write(buffer.subarray(0, n));
        offset += n;
      }
      if (locate(namespace, pod, container) === undefined) finish();
    } catch {
      finish();
    }
  }, 100);
  let closed = false;
  const cleanUp = () => {
    clearInterval(timer);
    if (!closed) closeSync(fd);
    closed = true;
  };
  const finish = () => {
    cleanUp();
    res.end();
  };
  res.on('close', cleanUp);
}
