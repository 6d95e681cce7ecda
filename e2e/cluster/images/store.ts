// The local cluster's images on disk, content-addressed as a registry keeps them: blobs by sha256,
// and per repository (its full name, host included) tags naming a manifest. The builders write
// here; the registry (registry.ts) only reads.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CACHE_DIR, pathExists } from '../paths.ts';
import {
  LAYER_MEDIA_TYPE,
  normalizeEntries,
  writeLayer,
  type BlobRef,
  type LayerEntry,
} from './oci-layer.ts';

export const IMAGE_STORE_DIR = join(CACHE_DIR, 'images');

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

// Bump when writeLayer's output for the same entries changes, so cached layers are rebuilt.
const LAYER_FORMAT = 1;

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
// A repository name: an optional registry host (a dot or a port tells it apart) and
// distribution-spec path components. Checked before a name becomes a path on disk.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(
  `^(?:[a-z0-9-]+(?:\\.[a-z0-9-]+)*(?::[0-9]+)?/)?${COMPONENT}(?:/${COMPONENT})*$`,
);

export function isDigest(ref: string): boolean {
  return DIGEST.test(ref);
}
export function isTag(ref: string): boolean {
  return TAG.test(ref);
}
export function isRepositoryName(name: string): boolean {
  return name.length <= 255 && REPOSITORY.test(name);
}

export interface LayerRef extends BlobRef {
  /** Defaults to an uncompressed tar, which is what writeLayer makes. */
  mediaType?: string;
}

export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
}

export interface ImageSpec {
  /** Full repository name, host included: `dev.local/helloworld`. */
  name: string;
  tag: string;
  layers: LayerRef[];
  config: ImageConfig;
}

export interface ResolvedManifest {
  digest: string;
  mediaType: string;
  size: number;
  path: string;
}

interface LayoutDescriptor {
  mediaType?: string;
  digest: string;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string };
}

/** The media type a manifest declares, or that its shape implies (OCI lets it leave it out). */
function manifestMediaType(content: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const manifest = parsed as { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  if (typeof manifest.mediaType === 'string') {
    return [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].includes(manifest.mediaType)
      ? manifest.mediaType
      : undefined;
  }
  if (Array.isArray(manifest.manifests)) return OCI_INDEX;
  if (typeof manifest.config === 'object' && Array.isArray(manifest.layers)) return OCI_MANIFEST;
  return undefined;
}

function sha256(content: Buffer | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

export class ImageStore {
  // A blob's media type never changes (its digest is its content), so each manifest is parsed
  // once; undefined marks a blob that is not a manifest.
  private readonly mediaTypes = new Map<string, string | undefined>();
  private tmpCounter = 0;

  readonly root: string;
  constructor(root: string = IMAGE_STORE_DIR) {
    this.root = root;
  }

  blobPath(digest: string): string {
    if (!isDigest(digest)) throw new Error(`not a sha256 digest: ${digest}`);
    return join(this.root, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  private tagPath(name: string, tag: string): string {
    if (!isRepositoryName(name)) throw new Error(`not a repository name: ${name}`);
    if (!isTag(tag)) throw new Error(`not a tag: ${tag}`);
    return join(this.root, 'repositories', name, '_tags', tag);
  }

  /** A temporary file on the store's file system, so that finishing it is a rename. */
  private async tmpFile(): Promise<string> {
    const dir = join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, `${process.pid}-${Date.now()}-${this.tmpCounter++}`);
  }

  /** Moves a finished temporary file to its blob path; another writer's copy is as good. */
  private async commit(tmp: string, digest: string): Promise<void> {
    const path = this.blobPath(digest);
    if (await pathExists(path)) {
      await rm(tmp, { force: true });
      return;
    }
    await mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
    await rename(tmp, path);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return pathExists(this.blobPath(digest));
  }

  /** Stores a host file or a buffer as a blob; nothing is written when it is already there. */
  async putBlob(source: string | Buffer): Promise<BlobRef> {
    if (typeof source !== 'string') {
      const digest = sha256(source);
      if (!(await this.hasBlob(digest))) {
        const tmp = await this.tmpFile();
        await writeFile(tmp, source);
        await this.commit(tmp, digest);
      }
      return { digest, size: source.length };
    }
    // Hashed first, so a blob already stored is only read; hashed again as copied, in case the
    // source changed in between: the digest must be of the bytes stored.
    const known = await fileDigest(source);
    if (await this.hasBlob(known)) return { digest: known, size: (await stat(this.blobPath(known))).size };
    const tmp = await this.tmpFile();
    await copyFile(source, tmp);
    const digest = await fileDigest(tmp);
    const { size } = await stat(tmp);
    await this.commit(tmp, digest);
    return { digest, size };
  }

  /**
   * Writes a layer unless one from the same inputs is stored: the key covers every entry and each
   * source file's size, mtime and inode, so an unchanged 126 MB binary is not read again.
   */
  async putLayer(entries: readonly LayerEntry[]): Promise<BlobRef> {
    const key = await layerKey(entries);
    const cachePath = join(this.root, 'layers', `${key}.json`);
    const cached = await readCachedLayer(cachePath);
    if (cached !== undefined && (await this.hasBlob(cached.digest))) return cached;
    const tmp = await this.tmpFile();
    try {
      const blob = await writeLayer(entries, tmp);
      await this.commit(tmp, blob.digest);
      await mkdir(join(this.root, 'layers'), { recursive: true });
      await writeFile(cachePath, JSON.stringify(blob));
      return blob;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Writes the image's config and manifest and points the tag at it; returns the manifest digest. */
  async putImage(image: ImageSpec): Promise<string> {
    const { config } = image;
    const imageConfig = {
      architecture: 'amd64',
      os: 'linux',
      config: {
        ...(config.user !== undefined && { User: config.user }),
        ...(config.env !== undefined && { Env: Object.entries(config.env).map(([k, v]) => `${k}=${v}`) }),
        ...(config.entrypoint !== undefined && { Entrypoint: config.entrypoint }),
        ...(config.cmd !== undefined && { Cmd: config.cmd }),
        ...(config.workingDir !== undefined && { WorkingDir: config.workingDir }),
        ...(config.labels !== undefined && { Labels: config.labels }),
      },
      // diffIDs are the uncompressed layers' digests: the same as the blobs' for plain tars.
      rootfs: { type: 'layers', diff_ids: image.layers.map((layer) => layer.digest) },
    };
    const configBlob = await this.putBlob(Buffer.from(JSON.stringify(imageConfig)));
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...configBlob },
      layers: image.layers.map((layer) => ({
        mediaType: layer.mediaType ?? LAYER_MEDIA_TYPE,
        digest: layer.digest,
        size: layer.size,
      })),
    };
    const { digest } = await this.putBlob(Buffer.from(JSON.stringify(manifest)));
    await this.tag(image.name, image.tag, digest);
    return digest;
  }

  private async tag(name: string, tag: string, digest: string): Promise<void> {
    const path = this.tagPath(name, tag);
    await mkdir(join(path, '..'), { recursive: true });
    // Unchanged tags are not rewritten, so a warm build touches nothing.
    if ((await readFile(path, 'utf8').catch(() => undefined)) === `${digest}\n`) return;
    const tmp = await this.tmpFile();
    await writeFile(tmp, `${digest}\n`);
    await rename(tmp, path);
  }

  /**
   * Copies an OCI image layout (index.json and blobs/sha256/, as `podman save --format oci-dir`
   * writes it) into the store, verifying each blob's digest, and tags its manifest. Blobs keep their
   * media types, compressed layers included.
   */
  async importOciLayout(dir: string, name: string, tag: string): Promise<string> {
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests?: LayoutDescriptor[];
    };
    const manifest = pickManifest(index.manifests ?? [], tag, dir);
    const blobsDir = join(dir, 'blobs', 'sha256');
    for (const hex of await readdir(blobsDir)) {
      const digest = `sha256:${hex}`;
      if (!isDigest(digest) || (await this.hasBlob(digest))) continue;
      const stored = await this.putBlob(join(blobsDir, hex));
      if (stored.digest !== digest) {
        await rm(this.blobPath(stored.digest), { force: true });
        throw new Error(`${join(blobsDir, hex)}: content digest is ${stored.digest}`);
      }
    }
    if (!(await this.hasBlob(manifest.digest)))
      throw new Error(`${dir}: manifest ${manifest.digest} has no blob`);
    await this.tag(name, tag, manifest.digest);
    return manifest.digest;
  }

  async hasRepository(name: string): Promise<boolean> {
    return isRepositoryName(name) && pathExists(join(this.root, 'repositories', name, '_tags'));
  }

  /** The repository names ending in `/<path>` whose first component is a registry host, for a
   * request that does not say which host it meant. */
  async repositoriesEndingIn(path: string): Promise<string[]> {
    const hosts = await readdir(join(this.root, 'repositories')).catch(() => []);
    const out: string[] = [];
    for (const host of hosts) {
      const name = `${host}/${path}`;
      if (/[.:]/.test(host) && (await this.hasRepository(name))) out.push(name);
    }
    return out;
  }

  /** The manifest a tag or digest names in a repository, or undefined. */
  async resolve(name: string, ref: string): Promise<ResolvedManifest | undefined> {
    if (!(await this.hasRepository(name))) return undefined;
    let digest = ref;
    if (!isDigest(ref)) {
      if (!isTag(ref)) return undefined;
      const text = await readFile(this.tagPath(name, ref), 'utf8').catch(() => undefined);
      if (text === undefined) return undefined;
      digest = text.trim();
      if (!isDigest(digest)) return undefined;
    }
    const path = this.blobPath(digest);
    const stats = await stat(path).catch(() => undefined);
    if (stats?.isFile() !== true) return undefined;
    let mediaType = this.mediaTypes.get(digest);
    if (!this.mediaTypes.has(digest)) {
      mediaType = manifestMediaType(await readFile(path));
      this.mediaTypes.set(digest, mediaType);
    }
    return mediaType === undefined ? undefined : { digest, mediaType, size: stats.size, path };
  }

  /** A blob of a repository the store holds: its path and size, or undefined. */
  async blob(name: string, digest: string): Promise<{ path: string; size: number } | undefined> {
    if (!isDigest(digest) || !(await this.hasRepository(name))) return undefined;
    const path = this.blobPath(digest);
    const stats = await stat(path).catch(() => undefined);
    return stats?.isFile() === true ? { path, size: stats.size } : undefined;
  }
}

/** The layout's manifest for `tag`: the one annotated with that name, else the only one, else the
 * linux/amd64 one. */
function pickManifest(manifests: LayoutDescriptor[], tag: string, dir: string): LayoutDescriptor {
  const candidates = manifests.filter((m) => isDigest(m.digest));
  const named = candidates.filter((m) => {
    const ref = m.annotations?.['org.opencontainers.image.ref.name'];
    return ref === tag || ref?.endsWith(`:${tag}`) === true;
  });
  const amd64 = candidates.filter((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
  const pick =
    named.length === 1
      ? named[0]
      : candidates.length === 1
        ? candidates[0]
        : amd64.length === 1
          ? amd64[0]
          : undefined;
  if (pick === undefined)
    throw new Error(
      `${dir}/index.json: ${candidates.length} manifests and none is clearly the one for tag ${tag}`,
    );
  return pick;
}

async function readCachedLayer(path: string): Promise<BlobRef | undefined> {
  try {
    const { digest, size } = JSON.parse(await readFile(path, 'utf8')) as Partial<BlobRef>;
    return typeof digest === 'string' && isDigest(digest) && typeof size === 'number'
      ? { digest, size }
      : undefined;
  } catch {
    // Missing, or cut short by a build that was killed: the layer is written again.
    return undefined;
  }
}

/** The cache key of a layer: its entries, with each host file's identity standing for its content. */
async function layerKey(entries: readonly LayerEntry[]): Promise<string> {
  const hash = createHash('sha256').update(`layer-format-${LAYER_FORMAT}\n`);
  for (const entry of normalizeEntries(entries)) {
    const { path, kind, uid = 0, gid = 0 } = entry;
    let detail: string;
    if (kind === 'dir') detail = entry.mode.toString(8);
    else if (kind === 'symlink') detail = entry.target;
    else if (typeof entry.source !== 'string') detail = `${entry.mode.toString(8)} ${sha256(entry.source)}`;
    else {
      const stats = await stat(entry.source, { bigint: true });
      detail = `${entry.mode.toString(8)} ${entry.source} ${stats.size} ${stats.mtimeNs} ${stats.ino} ${stats.dev}`;
    }
    hash.update(`${JSON.stringify([path, kind, uid, gid, detail])}\n`);
  }
  return hash.digest('hex');
}
