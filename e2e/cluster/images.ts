// The node agent's image table. The local cluster has no container runtime: the agent runs each
// container as a local process, and this table maps an image name to the command that stands in
// for it. An image not listed here fails to pull (ErrImagePull). `dev.local/ebb`, the image the
// chart's components run, is this checkout's `ebb` command, compiled to dist/ as the real image
// runs it; `npm run deploy` builds it first. Until then the image is not there: its pods wait in
// ImagePullBackOff and start once it is built, as they would while a registry push is under way.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { imageRepository } from '../../src/apis/validation/image-reference.ts';
import { KNATIVE_IMAGE_REPO, knativeImage } from '../conformance/knative.ts';
import { binary, CACHE_DIR } from './paths.ts';

export interface ImageEntry {
  /** Absolute path of the file Node runs (TypeScript runs through Node's built-in type stripping). */
  script: string;
  description: string;
  /** Environment the image itself would carry. */
  env?: Record<string, string>;
  /** A build output the image is made of, and the command that builds it: until that file
   * exists, the image does not either. */
  builtBy?: { file: string; command: string };
}

function app(name: string): string {
  return fileURLToPath(new URL(`../images/${name}.ts`, import.meta.url));
}

/** Keyed by image name without tag or digest. */
export const IMAGES: Record<string, ImageEntry> = {
  'dev.local/ebb': {
    script: fileURLToPath(new URL('../../bin/ebb.js', import.meta.url)),
    description:
      "the ebb command of this checkout (its dist/); a container's args are its subcommand (controller, webhook)",
    env: { EBB_RUN_DIST: '1', NODE_ENV: 'production' },
    builtBy: {
      file: fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)),
      command: 'npm run deploy (or npm run build)',
    },
  },
  'dev.local/helloworld': {
    script: app('helloworld'),
    description: 'GET / answers "Hello ${TARGET:-World}!"',
  },
  'dev.local/echo': {
    script: app('echo'),
    description: 'answers each request with its method, path, query, headers, body and K_* env; /proxy?url=U',
  },
  'dev.local/autoscale': {
    script: app('autoscale'),
    description: '?sleep=MS holds a request; answers the in-flight count at arrival and the maximum seen',
  },
  'dev.local/failing': {
    script: app('failing'),
    description: 'exits with code 5 at start',
  },
  'dev.local/webhook': {
    script: app('webhook'),
    description: 'HTTPS validating admission webhook that denies objects labelled e2e-deny=true',
  },
  'dev.local/slowstart': {
    script: app('slowstart'),
    description: 'listens only after STARTUP_DELAY_MS (default 5000)',
  },
};

/** Images that stand for one of the cluster's own binaries, e.g. an in-cluster kubectl client. */
export const BINARY_IMAGES: Record<string, () => string> = {
  'dev.local/kubectl': () => binary('kubectl'),
};

/** The image reference without its digest (`@sha256:...`) or tag (`:v1`). */
export const imageName = imageRepository;

/**
 * Node's compile cache for the test apps, shared by all pods: a real image would ship its app
 * already compiled in the same way, and it halves the apps' start (about 170 ms to 80 ms).
 */
export const NODE_COMPILE_CACHE = join(CACHE_DIR, 'node-compile-cache');

/** A file the image holds at a fixed path: the agent mounts it there in the container. */
export interface ImageFile {
  target: string;
  source: string;
}

export interface ResolvedImage {
  command: string[];
  /** Files of the image that commands may name by path. */
  files?: ImageFile[];
  env?: Record<string, string>;
  /** Set when the image is known but not built yet: why, and what builds it. */
  notBuilt?: string;
}

/** The command that runs an image (and env the image itself would carry), or undefined. */
export function resolveImage(
  image: string,
  exists: (file: string) => boolean = existsSync,
): ResolvedImage | undefined {
  const name = imageName(image);
  // hasOwn: "constructor" or "toString" must not resolve through the object's prototype.
  const entry = Object.hasOwn(IMAGES, name) ? IMAGES[name] : undefined;
  if (entry !== undefined) {
    const resolved: ResolvedImage = {
      command: [process.execPath, entry.script],
      env: { NODE_COMPILE_CACHE, ...entry.env },
    };
    if (entry.builtBy !== undefined && !exists(entry.builtBy.file)) {
      resolved.notBuilt = `image ${name} is this checkout's build output, and ${entry.builtBy.file} does not exist yet; ${entry.builtBy.command} builds it`;
    }
    return resolved;
  }
  const tool = Object.hasOwn(BINARY_IMAGES, name) ? BINARY_IMAGES[name] : undefined;
  if (tool !== undefined) return { command: [tool()] };
  // Knative's test images, built by `npm run test:conformance`. One that was never built does not
  // exist, as an image never pushed: `invalidhelloworld`, which the suites expect to fail to pull,
  // is such a name.
  const knative = name.startsWith(`${KNATIVE_IMAGE_REPO}/`) ? name.slice(KNATIVE_IMAGE_REPO.length + 1) : '';
  if (/^[a-z0-9][a-z0-9-]*$/.test(knative) && exists(knativeImage(knative))) {
    // ko, which builds Knative's images, puts the binary at /ko-app/<name> and runs it from there.
    const binary = knativeImage(knative);
    return { command: [binary], files: [{ target: `/ko-app/${knative}`, source: binary }] };
  }
  return undefined;
}

const digests = new Map<string, { mtimeMs: number; digest: string }>();

/**
 * The image's id as a node reports it in a pod's status (imageID): its name and the sha256 of the
 * file it runs, which changes when the image's content does, as a real image's digest would.
 */
export async function imageID(image: string, resolved: ResolvedImage): Promise<string> {
  const file = resolved.command.at(-1) ?? '';
  const { mtimeMs } = await stat(file);
  let known = digests.get(file);
  if (known?.mtimeMs !== mtimeMs) {
    known = {
      mtimeMs,
      digest: createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    };
    digests.set(file, known);
  }
  return `${imageName(image)}@sha256:${known.digest}`;
}
