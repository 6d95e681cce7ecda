import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageStore, OCI_CONFIG, OCI_MANIFEST, isRepositoryName } from './store.ts';

let dir: string;
let store: ImageStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebb-store-'));
  store = new ImageStore(join(dir, 'store'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function digestOf(content: Buffer | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

describe('putBlob', () => {
  it('stores a buffer or a file under its digest, once', async () => {
    const content = Buffer.from('hello');
    const blob = await store.putBlob(content);
    expect(blob).toEqual({ digest: digestOf(content), size: 5 });
    expect(await readFile(store.blobPath(blob.digest), 'utf8')).toBe('hello');
    const file = join(dir, 'hello.txt');
    await writeFile(file, 'hello');
    expect(await store.putBlob(file)).toEqual(blob);
  });
});

describe('putLayer', () => {
  it('reuses the stored layer while the source file is unchanged and rebuilds it when it changes', async () => {
    const source = join(dir, 'app');
    await writeFile(source, 'v1');
    const entries = [{ path: '/app', kind: 'file' as const, mode: 0o755, source }];
    const first = await store.putLayer(entries);
    const written = (await stat(store.blobPath(first.digest), { bigint: true })).mtimeNs;
    expect(await store.putLayer(entries)).toEqual(first);
    expect((await stat(store.blobPath(first.digest), { bigint: true })).mtimeNs).toBe(written);

    await writeFile(source, 'v2');
    await utimes(source, new Date(), new Date(Date.now() + 5000));
    const second = await store.putLayer(entries);
    expect(second.digest).not.toBe(first.digest);
  });
});

describe('putImage and resolve', () => {
  it('writes an OCI config and manifest, tags it, and resolves it by tag and by digest', async () => {
    const layer = await store.putLayer([
      { path: '/hello', kind: 'file', mode: 0o644, source: Buffer.from('hi') },
    ]);
    const digest = await store.putImage({
      name: 'knative.test/serving/helloworld',
      tag: 'latest',
      layers: [layer],
      config: { entrypoint: ['/ko-app/helloworld'], env: { A: '1' }, user: '65532:65532' },
    });
    const manifest = JSON.parse(await readFile(store.blobPath(digest), 'utf8')) as {
      mediaType: string;
      config: { mediaType: string; digest: string };
      layers: { digest: string }[];
    };
    expect(manifest.mediaType).toBe(OCI_MANIFEST);
    expect(manifest.config.mediaType).toBe(OCI_CONFIG);
    expect(manifest.layers.map((l) => l.digest)).toEqual([layer.digest]);
    expect(JSON.parse(await readFile(store.blobPath(manifest.config.digest), 'utf8'))).toEqual({
      architecture: 'amd64',
      os: 'linux',
      config: { User: '65532:65532', Env: ['A=1'], Entrypoint: ['/ko-app/helloworld'] },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    });

    const byTag = await store.resolve('knative.test/serving/helloworld', 'latest');
    expect(byTag).toMatchObject({ digest, mediaType: OCI_MANIFEST });
    expect(await store.resolve('knative.test/serving/helloworld', digest)).toEqual(byTag);
    expect(await store.resolve('knative.test/serving/helloworld', 'v2')).toBeUndefined();
    expect(await store.resolve('knative.test/serving/other', 'latest')).toBeUndefined();
    // A layer is a blob, not a manifest.
    expect(await store.resolve('knative.test/serving/helloworld', layer.digest)).toBeUndefined();
  });
});

describe('importOciLayout', () => {
  async function layout(): Promise<{ path: string; manifestDigest: string }> {
    const path = join(dir, 'layout');
    await mkdir(join(path, 'blobs', 'sha256'), { recursive: true });
    const put = async (content: Buffer): Promise<{ digest: string; size: number }> => {
      const digest = digestOf(content);
      await writeFile(join(path, 'blobs', 'sha256', digest.slice(7)), content);
      return { digest, size: content.length };
    };
    const layer = await put(gzipSync(Buffer.alloc(1024)));
    const config = await put(
      Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'),
    );
    const manifest = await put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          config: { mediaType: OCI_CONFIG, ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
        }),
      ),
    );
    await writeFile(
      join(path, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, ...manifest }] }),
    );
    return { path, manifestDigest: manifest.digest };
  }

  it('copies the blobs and tags the manifest, whose media type it infers when unset', async () => {
    const { path, manifestDigest } = await layout();
    expect(await store.importOciLayout(path, 'dev.local/imported', 'v1')).toBe(manifestDigest);
    expect(await store.resolve('dev.local/imported', 'v1')).toMatchObject({
      digest: manifestDigest,
      mediaType: OCI_MANIFEST,
    });
  });

  it('refuses a blob whose content does not match its name', async () => {
    const { path } = await layout();
    await writeFile(join(path, 'blobs', 'sha256', 'a'.repeat(64)), 'tampered');
    await expect(store.importOciLayout(path, 'dev.local/imported', 'v1')).rejects.toThrow(
      'content digest is',
    );
  });
});

it.each([
  ['dev.local/helloworld', true],
  ['knative.test/serving/helloworld', true],
  ['localhost:5000/a/b', true],
  ['helloworld', true],
  ['../etc', false],
  ['dev.local/../x', false],
  ['Upper/case', false],
  ['a//b', false],
  ['a/_tags', false],
])('isRepositoryName(%s) is %s', (name, valid) => {
  expect(isRepositoryName(name)).toBe(valid);
});
