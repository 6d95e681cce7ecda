// ebb's own image, dev.local/ebb, built from the repository's Dockerfile by podman on the bases
// bases.ts makes, then written out as an OCI image layout directory for the image store to import.
// The npm registry is reached through this machine's TLS-intercepting proxy: its CA goes in as a
// build secret, which only the `npm ci` steps mount and no layer keeps.
// `node e2e/cluster/images/ebb-image.ts` builds it and prints what each step took.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../shell.ts';
import {
  CONTAINER_LIMITS,
  DEBIAN_BASE,
  type BaseResult,
  ensureBases,
  IMAGE_BUILD_DIR,
  NODE_BASE,
  podman,
  RUNTIME_BASE,
  seconds,
} from './bases.ts';

export const EBB_IMAGE = 'dev.local/ebb';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** One directory per export; only the newest is kept. */
const EXPORT_DIR = join(IMAGE_BUILD_DIR, 'oci');

export interface EbbImageBuild {
  name: typeof EBB_IMAGE;
  tag: string;
  /** podman's image ID: the digest of the image's config. */
  id: string;
  /** An OCI image layout (`podman save --format oci-dir`) holding the image. */
  dir: string;
  bases: BaseResult[];
  /** How long each step took, in order. */
  timings: [step: string, seconds: string][];
}

/** The CA bundle the build's `npm ci` trusts besides Node's own: the one Node on this machine is
 * told to trust, else the system's. Undefined when there is neither, and the build mounts none. */
export function caBundle(env: NodeJS.ProcessEnv, exists: (path: string) => boolean): string | undefined {
  const candidates = [env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'];
  return candidates.find((path) => path !== undefined && path !== '' && exists(path));
}

/** The arguments of `podman build` for the repository's Dockerfile on the local bases; the image's
 * ID goes to `iidfile`. Host networking: `npm ci` reaches the registry, and podman adds no bridge
 * or firewall rules. */
export function buildArgs(iidfile: string, ca: string | undefined): string[] {
  return [
    'build',
    '--pull=never',
    // The build and deps stages are independent; side by side, the cold build takes a third less.
    '--jobs',
    '2',
    '--network',
    'host',
    ...CONTAINER_LIMITS,
    '--build-arg',
    `BUILD_IMAGE=${NODE_BASE}`,
    '--build-arg',
    `RUNTIME_IMAGE=${RUNTIME_BASE}`,
    ...(ca === undefined ? [] : ['--secret', `id=ca,src=${ca}`]),
    '-f',
    join(REPO, 'Dockerfile'),
    '--iidfile',
    iidfile,
    REPO,
  ];
}

/** The config digest of the single image in an OCI layout directory, or undefined when the
 * directory is missing or incomplete. */
async function layoutConfigDigest(dir: string): Promise<string | undefined> {
  try {
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const blob = (digest: string): string => join(dir, 'blobs', ...digest.split(':'));
    const manifestDigest = index.manifests[0]?.digest;
    if (manifestDigest === undefined) return undefined;
    const manifest = JSON.parse(await readFile(blob(manifestDigest), 'utf8')) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    if (!manifest.layers.every((layer) => existsSync(blob(layer.digest)))) return undefined;
    return manifest.config.digest;
  } catch {
    return undefined;
  }
}

/** Builds dev.local/ebb from the Dockerfile and exports it. Its tag is `dev-` and the start of
 * the image's ID, so any change to what goes in (sources, lockfile, bases) is a new tag that rolls
 * the pods, and an unchanged checkout gives the same tag. Fast when nothing changed: the bases are
 * reused, podman's layer cache answers every step, and an export of the same image is kept. */
export async function buildEbbImage(): Promise<EbbImageBuild> {
  const timings: [string, string][] = [];
  const time = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    timings.push([step, seconds(started)]);
    return result;
  };

  const bases = await time('bases', ensureBases);
  await mkdir(IMAGE_BUILD_DIR, { recursive: true });
  const iidfile = join(IMAGE_BUILD_DIR, `ebb.iid-${process.pid}`);
  let id: string;
  try {
    await time('podman build', () => podman(buildArgs(iidfile, caBundle(process.env, existsSync))));
    id = (await readFile(iidfile, 'utf8')).trim().replace(/^sha256:/, '');
  } finally {
    await rm(iidfile, { force: true });
  }
  const tag = `dev-${id.slice(0, 12)}`;
  const ref = `${EBB_IMAGE}:${tag}`;
  await podman(['tag', id, ref]);

  const dir = join(EXPORT_DIR, `ebb-${tag}`);
  if ((await layoutConfigDigest(dir)) !== `sha256:${id}`) {
    await time('podman save', async () => {
      await mkdir(EXPORT_DIR, { recursive: true });
      const partial = `${dir}.partial-${process.pid}`;
      await rm(partial, { recursive: true, force: true });
      await podman(['save', '--format', 'oci-dir', '-o', partial, ref]);
      await rm(dir, { recursive: true, force: true });
      await rename(partial, dir);
    });
  }
  // Earlier tags' exports; another build's unfinished one (.partial-) is left alone.
  for (const name of await readdir(EXPORT_DIR)) {
    const path = join(EXPORT_DIR, name);
    if (path !== dir && !name.includes('.partial-')) await rm(path, { recursive: true, force: true });
  }
  return { name: EBB_IMAGE, tag, id, dir, bases, timings };
}

/** The Debian base as `dev.local/debian:bookworm`, for pods that need a shell and tar (`kubectl
 * cp` runs tar in the container): exported as an OCI layout when it changed. */
export async function exportDebianBase(): Promise<{ name: string; tag: string; dir: string }> {
  await ensureBases();
  const id = (await podman(['image', 'inspect', '--format', '{{.Id}}', DEBIAN_BASE])).trim();
  const dir = join(IMAGE_BUILD_DIR, 'debian-oci');
  if ((await layoutConfigDigest(dir)) !== `sha256:${id.replace(/^sha256:/, '')}`) {
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await podman(['save', '--format', 'oci-dir', '-o', partial, DEBIAN_BASE]);
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
  }
  return { name: 'dev.local/debian', tag: 'bookworm', dir };
}

if (import.meta.main) {
  try {
    const started = performance.now();
    const image = await buildEbbImage();
    const size = await podman(['image', 'inspect', '--format', '{{.Size}}', `${image.name}:${image.tag}`]);
    const lines = [
      `${image.name}:${image.tag}  id ${image.id.slice(0, 12)}  ${(Number(size) / 1e6).toFixed(0)} MB`,
      `OCI layout: ${image.dir}`,
      ...image.bases.map(
        (b) => `  ${b.ref}: ${b.built ? `built in ${b.seconds ?? '?'} (${b.steps.join(', ')})` : 'reused'}`,
      ),
      ...image.timings.map(([step, s]) => `  ${step}: ${s}`),
      `  total: ${seconds(started)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`[image] failed: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  }
}
