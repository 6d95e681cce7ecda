// Builds the images the local cluster's node pulls into the image store: the test apps on a Node
// runtime, kubectl, pause, and Knative's conformance test images as ko would have built them.
// Layers are cached by their inputs, so a build where nothing changed only checks file stats.
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNATIVE_IMAGE_REPO, KNATIVE_IMAGES_DIR } from '../../conformance/knative.ts';
import { binary, nodeBinary, pathExists } from '../paths.ts';
import type { BlobRef, LayerEntry } from './oci-layer.ts';
import { sharedLibraryEntries } from './shared-libraries.ts';
import { ImageStore, type ImageConfig } from './store.ts';

/** The apps of e2e/images/, each the image `dev.local/<app>`. */
export const TEST_APPS = ['helloworld', 'echo', 'autoscale', 'failing', 'webhook', 'slowstart'] as const;

const APPS_DIR = fileURLToPath(new URL('../../images/', import.meta.url));
const NODE = fileURLToPath(new URL('../../../node_modules/node/bin/node', import.meta.url));

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NONROOT = '65532:65532';

// The accounts distroless and Wolfi's static base carry: root, nobody and nonroot (65532), which
// Knative's runtime conformance expects a container to run as when nothing else is said.
const PASSWD = [
  'root:x:0:0:root:/root:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
  'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'nobody:x:65534:', 'nonroot:x:65532:', ''].join('\n');

/** What a static base image holds besides programs; Knative's runtime contract wants /tmp 1777. */
function staticBaseEntries(): LayerEntry[] {
  return [
    { path: '/etc/passwd', kind: 'file', mode: 0o644, source: Buffer.from(PASSWD) },
    { path: '/etc/group', kind: 'file', mode: 0o644, source: Buffer.from(GROUP) },
    // Without it glibc and Go each pick their own lookup order; with it, /etc/hosts comes first.
    { path: '/etc/nsswitch.conf', kind: 'file', mode: 0o644, source: Buffer.from('hosts: files dns\n') },
    { path: '/tmp', kind: 'dir', mode: 0o1777 },
    { path: '/root', kind: 'dir', mode: 0o700 },
    { path: '/home/nonroot', kind: 'dir', mode: 0o700, uid: 65532, gid: 65532 },
  ];
}

export interface BuiltImage {
  name: string;
  tag: string;
  digest: string;
}

export interface ClusterImagesOptions {
  /** The static pause binary, built to `nodeBinary('pause')`. */
  pauseBinary?: string;
  store?: ImageStore;
  /** The Node the apps run on; this checkout's node_modules/node by default. */
  nodeBinary?: string;
  kubectlBinary?: string;
  /** Knative's built test images (one Go binary per image); skipped when absent. */
  knativeImagesDir?: string;
}

async function requireFile(path: string, what: string): Promise<string> {
  if (!(await pathExists(path)))
    throw new Error(`${what}: ${path} does not exist; npm run cluster:build builds the cluster's binaries`);
  return path;
}

/** Writes layers and images to the store and keeps the list of images built. */
class ImageBuilder {
  readonly images: BuiltImage[] = [];
  private readonly store: ImageStore;
  constructor(store: ImageStore) {
    this.store = store;
  }

  layer(entries: readonly LayerEntry[]): Promise<BlobRef> {
    return this.store.putLayer(entries);
  }

  async image(name: string, tag: string, layers: BlobRef[], config: ImageConfig): Promise<void> {
    const digest = await this.store.putImage({ name, tag, layers, config });
    this.images.push({ name, tag, digest });
  }
}

async function buildNodeApps(builder: ImageBuilder, base: BlobRef, node: string): Promise<void> {
  const nodeRuntime = await builder.layer([
    { path: '/usr/local/bin/node', kind: 'file', mode: 0o755, source: node },
    ...(await sharedLibraryEntries([node])),
  ]);
  // Every app gets all of e2e/images' modules: they share serve.ts, and one layer serves all six.
  const sources = (await readdir(APPS_DIR))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const apps = await builder.layer([
    ...sources.map((file): LayerEntry => ({
      path: `/app/${file}`,
      kind: 'file',
      mode: 0o644,
      source: join(APPS_DIR, file),
    })),
    // Node runs the .ts files as ES modules only inside a "type": "module" package.
    { path: '/app/package.json', kind: 'file', mode: 0o644, source: Buffer.from('{"type":"module"}\n') },
  ]);
  for (const app of TEST_APPS) {
    await builder.image(`dev.local/${app}`, 'latest', [base, nodeRuntime, apps], {
      entrypoint: ['/usr/local/bin/node', `/app/${app}.ts`],
      env: { PATH },
      user: NONROOT,
      workingDir: '/app',
    });
  }
}

/** Knative's test images as ko lays them out: the binary at /ko-app/<name>, KO_DATA_PATH at
 * /var/run/ko (no test image ships kodata), on a nonroot static base as Knative's .ko.yaml picks. */
async function buildKnativeImages(builder: ImageBuilder, base: BlobRef, dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => []);
  for (const name of names.sort()) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) continue; // `<name>.tmp` is a build under way
    const source = join(dir, name);
    if (!(await stat(source)).isFile()) continue;
    const layer = await builder.layer([
      { path: `/ko-app/${name}`, kind: 'file', mode: 0o755, source },
      { path: '/var/run/ko', kind: 'dir', mode: 0o755 },
    ]);
    await builder.image(`${KNATIVE_IMAGE_REPO}/${name}`, 'latest', [base, layer], {
      entrypoint: [`/ko-app/${name}`],
      env: { PATH: `${PATH}:/ko-app`, KO_DATA_PATH: '/var/run/ko' },
      user: NONROOT,
    });
  }
}

/** Builds every image the cluster pulls and returns them with the seconds it took. */
export async function buildClusterImages(
  options: ClusterImagesOptions = {},
): Promise<{ images: BuiltImage[]; seconds: number }> {
  const started = performance.now();
  const builder = new ImageBuilder(options.store ?? new ImageStore());
  const base = await builder.layer(staticBaseEntries());

  await buildNodeApps(builder, base, await realpath(await requireFile(options.nodeBinary ?? NODE, 'Node')));

  const kubectl = await requireFile(options.kubectlBinary ?? binary('kubectl'), 'kubectl');
  const kubectlLayer = await builder.layer([
    { path: '/usr/local/bin/kubectl', kind: 'file', mode: 0o755, source: kubectl },
  ]);
  await builder.image('dev.local/kubectl', 'latest', [base, kubectlLayer], {
    entrypoint: ['/usr/local/bin/kubectl'],
    env: { PATH },
    user: NONROOT,
  });

  // As registry.k8s.io/pause is: the one binary and nothing else, run as 65535.
  const pause = await requireFile(options.pauseBinary ?? nodeBinary('pause'), 'pause');
  const pauseLayer = await builder.layer([{ path: '/pause', kind: 'file', mode: 0o755, source: pause }]);
  await builder.image('dev.local/pause', '3.10', [pauseLayer], {
    entrypoint: ['/pause'],
    user: '65535:65535',
  });

  await buildKnativeImages(builder, base, options.knativeImagesDir ?? KNATIVE_IMAGES_DIR);
  return { images: builder.images, seconds: (performance.now() - started) / 1000 };
}

if (import.meta.main) {
  const { images, seconds } = await buildClusterImages();
  for (const image of images) process.stdout.write(`${image.name}:${image.tag}@${image.digest}\n`);
  process.stderr.write(`[images] ${images.length} images in ${seconds.toFixed(2)} s\n`);
}
