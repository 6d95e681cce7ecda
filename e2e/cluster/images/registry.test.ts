import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRange, parseRegistryPath, startRegistry, type Registry } from './registry.ts';
import { ImageStore, OCI_MANIFEST } from './store.ts';

describe('parseRegistryPath', () => {
  it.each([
    ['/v2/', { kind: 'base' }],
    ['/v2', { kind: 'base' }],
    [
      '/v2/serving/helloworld/manifests/latest',
      { kind: 'manifest', path: 'serving/helloworld', ref: 'latest' },
    ],
    ['/v2/a/manifests/blobs/sha256:ab', { kind: 'blob', path: 'a/manifests', ref: 'sha256:ab' }],
    ['/v2/helloworld/tags/list', undefined],
    ['/v2/helloworld/manifests/', undefined],
    ['/healthz', undefined],
  ])('%s', (path, route) => {
    expect(parseRegistryPath(path)).toEqual(route);
  });
});

describe('parseRange', () => {
  it.each([
    [undefined, undefined],
    ['bytes=0-', { start: 0, end: 99 }],
    ['bytes=10-19', { start: 10, end: 19 }],
    ['bytes=90-200', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=0-1,5-6', undefined],
  ])('%s of 100 bytes', (header, range) => {
    expect(parseRange(header, 100)).toEqual(range);
  });
});

describe('registry', () => {
  let dir: string;
  let store: ImageStore;
  let registry: Registry;
  let base: string;
  let manifestDigest: string;
  let layerDigest: string;
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebb-registry-'));
    store = new ImageStore(dir);
    const layer = await store.putLayer([
      { path: '/hello', kind: 'file', mode: 0o644, source: Buffer.from('hi') },
    ]);
    layerDigest = layer.digest;
    manifestDigest = await store.putImage({
      name: 'knative.test/serving/helloworld',
      tag: 'latest',
      layers: [layer],
      config: { entrypoint: ['/ko-app/helloworld'] },
    });
    // The same path under two hosts: without ?ns= the registry cannot tell which is meant.
    await store.putImage({ name: 'dev.local/twice', tag: 'latest', layers: [layer], config: {} });
    await store.putImage({ name: 'knative.test/twice', tag: 'latest', layers: [layer], config: {} });
    registry = await startRegistry(store, '127.0.0.1', 0);
    base = `http://${registry.address}`;
  });
  afterAll(async () => {
    await registry.close();
    await rm(dir, { recursive: true, force: true });
    stderr.mockRestore();
  });

  it('answers the base endpoint', async () => {
    const res = await fetch(`${base}/v2/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it('serves a manifest by tag for the host given in ?ns=, with its digest', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${base}/v2/serving/helloworld/manifests/latest?ns=knative.test`, { method });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(OCI_MANIFEST);
      expect(res.headers.get('docker-content-digest')).toBe(manifestDigest);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.length).toBe(method === 'HEAD' ? 0 : Number(res.headers.get('content-length')));
    }
  });

  it('serves a manifest by digest, and by path alone when one host has it', async () => {
    const byDigest = await fetch(`${base}/v2/serving/helloworld/manifests/${manifestDigest}?ns=knative.test`);
    expect(byDigest.status).toBe(200);
    const byPath = await fetch(`${base}/v2/serving/helloworld/manifests/latest`);
    expect(byPath.headers.get('docker-content-digest')).toBe(manifestDigest);
    const fullName = await fetch(`${base}/v2/knative.test/serving/helloworld/manifests/latest`);
    expect(fullName.headers.get('docker-content-digest')).toBe(manifestDigest);
  });

  it.each([
    ['an unknown tag', '/v2/serving/helloworld/manifests/v9?ns=knative.test'],
    ['another host', '/v2/serving/helloworld/manifests/latest?ns=dev.local'],
    ['an unknown repository', '/v2/serving/invalidhelloworld/manifests/latest?ns=knative.test'],
    ['a path two hosts have, without ?ns=', '/v2/twice/manifests/latest'],
  ])('answers MANIFEST_UNKNOWN for %s', async (_, path) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    expect((await fetch(`${base}${path}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('streams a blob, whole or a range, and answers BLOB_UNKNOWN for one it lacks', async () => {
    const url = `${base}/v2/serving/helloworld/blobs/${layerDigest}?ns=knative.test`;
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(layerDigest);
    const size = Number(head.headers.get('content-length'));
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(whole.length).toBe(size);
    const part = await fetch(url, { headers: { range: 'bytes=512-' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 512-${size - 1}/${size}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(512));

    const missing = await fetch(
      `${base}/v2/serving/helloworld/blobs/sha256:${'0'.repeat(64)}?ns=knative.test`,
    );
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN' }] });
  });

  it('refuses writes and unknown endpoints', async () => {
    const put = await fetch(`${base}/v2/serving/helloworld/manifests/latest?ns=knative.test`, {
      method: 'PUT',
      body: '{}',
    });
    expect(put.status).toBe(405);
    expect((await fetch(`${base}/v2/serving/helloworld/tags/list`)).status).toBe(404);
    expect((await fetch(`${base}/v2/serving/../../etc/manifests/latest?ns=knative.test`)).status).toBe(404);
  });
});
