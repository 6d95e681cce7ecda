// A read-only OCI registry over the image store, enough for containerd to pull: the base
// endpoint, manifests by tag or digest, and blobs, each by GET or HEAD. containerd reaches it as a
// mirror (hosts.toml), so a request names the repository without its host and says the host in
// `?ns=` (core/remotes/docker/resolver.go, addNamespace); the store keys repositories by full name.
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { ImageStore, isRepositoryName } from './store.ts';

export type RegistryRoute =
  | { kind: 'base' }
  | { kind: 'manifest' | 'blob'; /** The repository as the URL names it. */ path: string; ref: string };

/** The endpoint a request path names, or undefined for anything this registry does not serve. */
export function parseRegistryPath(pathname: string): RegistryRoute | undefined {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'base' };
  // Greedy: a repository may itself contain "manifests" or "blobs" as a component.
  const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(pathname);
  if (match === null) return undefined;
  const [, path = '', endpoint, ref = ''] = match;
  return { kind: endpoint === 'blobs' ? 'blob' : 'manifest', path, ref };
}

/** A single `bytes=` range within `size`, 'unsatisfiable', or undefined to send the whole blob
 * (no header, or one this server does not honour, such as several ranges). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return start >= size || end < start ? 'unsatisfiable' : { start, end };
}

// The host a mirror request says it is for: a DNS name or IP, with an optional port.
const HOST = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]+)?$/;

type ErrorCode = 'MANIFEST_UNKNOWN' | 'BLOB_UNKNOWN' | 'NAME_INVALID' | 'UNSUPPORTED';

export class RegistryHandler {
  private readonly store: ImageStore;
  constructor(store: ImageStore) {
    this.store = store;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res).catch((error: unknown) => {
      process.stderr.write(`[registry] ${req.method ?? ''} ${req.url ?? ''}: ${String(error)}\n`);
      if (!res.headersSent) this.error(res, 500, 'UNSUPPORTED', 'internal error');
      else res.destroy();
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    const route = parseRegistryPath(pathname);
    if (route === undefined) {
      this.miss(req, 404, 'no such endpoint');
      this.error(res, 404, 'UNSUPPORTED', 'no such endpoint');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      this.miss(req, 405, 'read-only registry');
      this.error(res, 405, 'UNSUPPORTED', 'this registry is read-only');
      return;
    }
    if (route.kind === 'base') {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': 2,
        'docker-distribution-api-version': 'registry/2.0',
      });
      res.end(req.method === 'HEAD' ? undefined : '{}');
      return;
    }
    const ns = queryAt === -1 ? null : new URLSearchParams(url.slice(queryAt + 1)).get('ns');
    const name = await this.repository(route.path, ns);
    if (route.kind === 'manifest') await this.manifest(req, res, name, route.ref);
    else await this.blob(req, res, name, route.ref);
  }

  /**
   * The store's name for the repository: `<ns>/<path>` when containerd says the host; without it,
   * the path itself, or else the one stored repository that is some host's `<path>`.
   */
  private async repository(path: string, ns: string | null): Promise<string | undefined> {
    if (ns !== null) {
      const name = `${ns}/${path}`;
      return HOST.test(ns) && isRepositoryName(name) ? name : undefined;
    }
    if (!isRepositoryName(path)) return undefined;
    if (await this.store.hasRepository(path)) return path;
    const candidates = await this.store.repositoriesEndingIn(path);
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  private async manifest(
    req: IncomingMessage,
    res: ServerResponse,
    name: string | undefined,
    ref: string,
  ): Promise<void> {
    const manifest = name === undefined ? undefined : await this.store.resolve(name, ref);
    if (manifest === undefined) {
      this.miss(req, 404, `manifest unknown (repository ${name ?? 'unknown'})`);
      this.error(res, 404, 'MANIFEST_UNKNOWN', `manifest unknown: ${name ?? 'unknown repository'} ${ref}`);
      return;
    }
    res.writeHead(200, {
      'content-type': manifest.mediaType,
      'content-length': manifest.size,
      'docker-content-digest': manifest.digest,
      etag: `"${manifest.digest}"`,
    });
    await this.send(req, res, manifest.path, 0, manifest.size - 1);
  }

  private async blob(
    req: IncomingMessage,
    res: ServerResponse,
    name: string | undefined,
    digest: string,
  ): Promise<void> {
    const blob = name === undefined ? undefined : await this.store.blob(name, digest);
    if (blob === undefined) {
      this.miss(req, 404, `blob unknown (repository ${name ?? 'unknown'})`);
      this.error(res, 404, 'BLOB_UNKNOWN', `blob unknown: ${name ?? 'unknown repository'} ${digest}`);
      return;
    }
    const headers = {
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest,
      'accept-ranges': 'bytes',
      etag: `"${digest}"`,
    };
    const range = parseRange(req.headers.range, blob.size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${blob.size}`, 'content-length': 0 });
      res.end();
      return;
    }
    if (range === undefined) {
      res.writeHead(200, { ...headers, 'content-length': blob.size });
      await this.send(req, res, blob.path, 0, blob.size - 1);
      return;
    }
    res.writeHead(206, {
      ...headers,
      'content-length': range.end - range.start + 1,
      'content-range': `bytes ${range.start}-${range.end}/${blob.size}`,
    });
    await this.send(req, res, blob.path, range.start, range.end);
  }

  private async send(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    start: number,
    end: number,
  ): Promise<void> {
    if (req.method === 'HEAD' || end < start) {
      res.end();
      return;
    }
    try {
      await pipeline(createReadStream(path, { start, end }), res);
    } catch {
      // The client went away mid-blob (containerd cancels pulls), or the file did: the response
      // is already under way, so ending the connection is the only thing left to say.
      res.destroy();
    }
  }

  private error(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
    const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private miss(req: IncomingMessage, status: number, reason: string): void {
    process.stderr.write(`[registry] ${status} ${req.method ?? ''} ${req.url ?? ''}: ${reason}\n`);
  }
}

export interface Registry {
  /** `host:port` as it listens, the port chosen by the system when 0 was asked for. */
  readonly address: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startRegistry(store: ImageStore, host: string, port: number): Promise<Registry> {
  const server = createServer({ keepAlive: true }, new RegistryHandler(store).handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: host.includes(':') ? `[${host}]:${bound.port}` : `${host}:${bound.port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        // Pullers keep connections open; closing them lets close() finish now.
        server.closeAllConnections();
      }),
  };
}

/** `host:port`, with the host as listen() takes it. */
export function parseListen(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  const port = Number(value.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--listen ${value}: expected host:port, e.g. 127.0.0.1:5000`);
  return { host: value.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, store: { type: 'string' } } });
  const { host, port } = parseListen(values.listen ?? '127.0.0.1:5000');
  const registry = await startRegistry(new ImageStore(values.store), host, port);
  process.stderr.write(
    `[registry] serving ${values.store ?? 'the image store'} on http://${registry.address}\n`,
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      void registry.close().then(() => process.exit(0));
    });
}
