// Knative Serving's own test suites and test images, built from its Go module. The module is
// pinned: v0.50.0 is the newest whose dependencies the module proxy serves (its go.sum pins
// knative.dev/pkg v0.0.0-20260727151759-521cb33b33dd). Everything lands in one cache directory
// keyed by the version, so a warm cache builds nothing.
import { chmod, cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { go } from '../cluster/build.ts';
import { CACHE_DIR, pathExists } from '../cluster/paths.ts';

export const KNATIVE_SERVING = 'knative.dev/serving';
export const KNATIVE_SERVING_VERSION = 'v0.50.0';
/** The repository the suites are told their images live in. Knative's TestContainerErrorMsg skips
 * for a repository whose host ends in `.local`; `.test` is reserved for testing and never
 * resolves, so nothing could be pulled from it by mistake. */
export const KNATIVE_IMAGE_REPO = 'knative.test/serving';

export const KNATIVE_DIR = join(CACHE_DIR, 'knative', `serving-${KNATIVE_SERVING_VERSION}`);
/** The module's source, as `buildKnative` leaves it. */
export const KNATIVE_SOURCE_DIR = join(KNATIVE_DIR, 'src');
export const KNATIVE_IMAGES_DIR = join(KNATIVE_DIR, 'images');
const SUITES_DIR = join(KNATIVE_DIR, 'suites');

/** The suites `npm run test:conformance` runs, by the name its summary uses. */
export const SUITES = {
  api: './test/conformance/api/v1',
  runtime: './test/conformance/runtime',
  e2e: './test/e2e',
} as const;
export type SuiteName = keyof typeof SUITES;

export function suiteBinary(name: SuiteName): string {
  return join(SUITES_DIR, `${name}.test`);
}

/** The built test image `name` (its Go binary), which e2e/cluster/images/ packs as
 * `knative.test/serving/<name>` with the binary at /ko-app/<name>, as ko does. */
export function knativeImage(name: string): string {
  return join(KNATIVE_IMAGES_DIR, name);
}

function log(message: string): void {
  process.stderr.write(`[conformance] ${message}\n`);
}

/** A writable copy of the module's source: the module cache is read-only, and `go test -c` in a
 * module needs to write its build list. */
async function source(): Promise<string> {
  const stamp = join(KNATIVE_SOURCE_DIR, '.ebb-complete');
  if (await pathExists(stamp)) return KNATIVE_SOURCE_DIR;
  log(`downloading ${KNATIVE_SERVING}@${KNATIVE_SERVING_VERSION} from the module proxy`);
  const info = JSON.parse(
    await go(KNATIVE_DIR, ['mod', 'download', '-json', `${KNATIVE_SERVING}@${KNATIVE_SERVING_VERSION}`]),
  ) as { Dir?: string; Error?: string };
  if (info.Dir === undefined)
    throw new Error(`go mod download ${KNATIVE_SERVING}: ${info.Error ?? 'no Dir'}`);
  await rm(KNATIVE_SOURCE_DIR, { recursive: true, force: true });
  await cp(info.Dir, KNATIVE_SOURCE_DIR, { recursive: true });
  await makeWritable(KNATIVE_SOURCE_DIR);
  await writeFile(stamp, `${KNATIVE_SERVING}@${KNATIVE_SERVING_VERSION}\n`);
  return KNATIVE_SOURCE_DIR;
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(path);
    else await chmod(path, 0o644);
  }
}

/** The test image packages: each directory of test/test_images with Go files, and the two of
 * multicontainer. */
async function imagePackages(src: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const scan = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(src, rel), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = `${rel}/${entry.name}`;
      const files = await readdir(join(src, dir));
      if (files.some((f) => f.endsWith('.go') && !f.endsWith('_test.go'))) out.set(entry.name, `./${dir}`);
      else if (entry.name === 'multicontainer') await scan(dir);
    }
  };
  await scan('test/test_images');
  return out;
}

/** Builds what is missing: the suites (`go test -c -tags=e2e`) and every test image. */
export async function buildKnative(suites: readonly SuiteName[]): Promise<void> {
  await mkdir(KNATIVE_DIR, { recursive: true });
  const src = await source();
  await mkdir(SUITES_DIR, { recursive: true });
  for (const name of suites) {
    const out = suiteBinary(name);
    if (await pathExists(out)) continue;
    log(`building Knative's ${name} suite (${SUITES[name]})`);
    const started = Date.now();
    await go(src, ['test', '-c', '-tags=e2e', '-trimpath', '-o', `${out}.tmp`, SUITES[name]]);
    await rename(`${out}.tmp`, out);
    log(`built ${name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  await mkdir(KNATIVE_IMAGES_DIR, { recursive: true });
  const missing = [];
  for (const [name, pkg] of await imagePackages(src))
    if (!(await pathExists(knativeImage(name)))) missing.push([name, pkg] as const);
  if (missing.length === 0) return;
  log(`building ${missing.length} test images: ${missing.map(([n]) => n).join(', ')}`);
  const started = Date.now();
  for (const [name, pkg] of missing) {
    await go(src, ['build', '-trimpath', '-o', `${knativeImage(name)}.tmp`, pkg]);
    await rename(`${knativeImage(name)}.tmp`, knativeImage(name));
  }
  log(`built the test images in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
