// Builds the local cluster's upstream components from the Go module proxy with the installed Go:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, kubectl, CoreDNS
// and helm. Binaries land in a cache directory keyed by their versions; a warm cache is reused.
// Kubernetes' own module replaces its staging modules with local paths, so it is built from a
// throwaway module that pins each staging module to its published v0.x.y twin.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN_DIR, BINARIES, BUILD_DIR, binary, pathExists } from './paths.ts';
import { VERSIONS } from './versions.ts';

const run = promisify(execFile);

function log(message: string): void {
  process.stderr.write(`[build] ${message}\n`);
}

/** Runs the installed Go as every build here does: module mode, local toolchain, static binaries. */
export async function go(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('go', args, {
    cwd,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** `go build` of `packages` into `out` (a file, or a directory ending in /), static and trimmed. */
async function goBuild(dir: string, ldflags: string, out: string, packages: string[]): Promise<void> {
  await go(dir, ['build', '-trimpath', '-ldflags', ldflags, '-o', out, ...packages]);
}

/** A fresh throwaway module directory. */
async function moduleDir(name: string): Promise<string> {
  const dir = join(BUILD_DIR, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await go(dir, ['mod', 'init', `local/${name}`]);
  return dir;
}

function versionFlags(pkgs: string[], version: string): string {
  const [, minor = '0'] = version.replace(/^v/, '').split('.');
  const date = '1970-01-01T00:00:00Z';
  return pkgs
    .flatMap((p) => [
      `-X ${p}.gitVersion=${version}`,
      `-X ${p}.gitMajor=1`,
      `-X ${p}.gitMinor=${minor}`,
      `-X ${p}.gitTreeState=clean`,
      `-X ${p}.buildDate=${date}`,
    ])
    .join(' ');
}

async function buildKubernetes(out: string): Promise<void> {
  const kv = VERSIONS.kubernetes;
  const sv = kv.replace(/^v1\./, 'v0.');
  const dir = await moduleDir('kubernetes');
  const info = JSON.parse(await go(dir, ['mod', 'download', '-json', `k8s.io/kubernetes@${kv}`])) as {
    GoMod: string;
  };
  const upstream = await readFile(info.GoMod, 'utf8');
  const goLine = /^go (\S+)$/m.exec(upstream)?.[1];
  if (goLine !== undefined) await go(dir, ['mod', 'edit', `-go=${goLine}`]);
  const godebug = upstream.split('\n').filter((l) => l.startsWith('godebug '));
  if (godebug.length > 0)
    await writeFile(
      join(dir, 'go.mod'),
      `${await readFile(join(dir, 'go.mod'), 'utf8')}${godebug.join('\n')}\n`,
    );
  const staging = [...upstream.matchAll(/^\s*(k8s\.io\/\S+) => \.\/staging\/src\/k8s\.io\//gm)].map(
    (m) => m[1] ?? '',
  );
  log(`kubernetes ${kv}: pinning ${staging.length} staging modules to ${sv}`);
  await go(dir, ['mod', 'edit', ...staging.map((m) => `-replace=${m}=${m}@${sv}`)]);
  const cmds = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl'];
  await go(dir, ['get', ...cmds.map((c) => `k8s.io/kubernetes/cmd/${c}@${kv}`)]);
  const ldflags = `-s -w ${versionFlags(['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'], kv)}`;
  log(`kubernetes ${kv}: compiling ${cmds.join(', ')}`);
  await goBuild(
    dir,
    ldflags,
    `${out}/`,
    cmds.map((c) => `k8s.io/kubernetes/cmd/${c}`),
  );
}

async function buildEtcd(out: string): Promise<void> {
  const dir = await moduleDir('etcd');
  await go(dir, ['get', `go.etcd.io/etcd/server/v3@${VERSIONS.etcd}`]);
  log(`etcd ${VERSIONS.etcd}: compiling`);
  const ldflags = `-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${VERSIONS.etcd}`;
  await goBuild(dir, ldflags, join(out, 'etcd'), ['go.etcd.io/etcd/server/v3']);
}

async function buildCoreDNS(out: string): Promise<void> {
  const dir = await moduleDir('coredns');
  await go(dir, ['get', `github.com/coredns/coredns@${VERSIONS.coredns}`]);
  log(`coredns ${VERSIONS.coredns}: compiling`);
  await goBuild(dir, '-s -w', join(out, 'coredns'), ['github.com/coredns/coredns']);
}

async function buildHelm(out: string): Promise<void> {
  const dir = await moduleDir('helm');
  const major = VERSIONS.helm.split('.')[0] ?? 'v4';
  const mod = `helm.sh/helm/${major}`;
  await go(dir, ['get', `${mod}/cmd/helm@${VERSIONS.helm}`]);
  log(`helm ${VERSIONS.helm}: compiling`);
  const ldflags = `-s -w -X ${mod}/internal/version.version=${VERSIONS.helm} -X ${mod}/internal/version.gitTreeState=clean`;
  await goBuild(dir, ldflags, join(out, 'helm'), [`${mod}/cmd/helm`]);
}

/** Builds whatever is missing; returns the seconds spent (0 when the cache was warm). */
export async function ensureBinaries(): Promise<number> {
  const missing: string[] = [];
  for (const name of BINARIES) if (!(await pathExists(binary(name)))) missing.push(name);
  if (missing.length === 0) return 0;
  const started = Date.now();
  const staging = `${BIN_DIR}.partial`;
  await mkdir(staging, { recursive: true });
  const steps: [string[], (out: string) => Promise<void>][] = [
    [['etcd'], buildEtcd],
    [
      ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl'],
      buildKubernetes,
    ],
    [['coredns'], buildCoreDNS],
    [['helm'], buildHelm],
  ];
  for (const [names, build] of steps) {
    if (names.every((n) => !missing.includes(n))) continue;
    const t = Date.now();
    await build(staging);
    log(`${names.join(', ')} built in ${Math.round((Date.now() - t) / 1000)} s`);
  }
  // Publish all at once, so a crash mid-build never leaves a half-filled cache that looks warm.
  await mkdir(BIN_DIR, { recursive: true });
  for (const name of BINARIES) {
    const from = join(staging, name);
    if (await pathExists(from)) await rename(from, binary(name));
  }
  await rm(staging, { recursive: true, force: true });
  const seconds = Math.round((Date.now() - started) / 1000);
  // Only a build of every component is a cold-build figure for bench:cluster to report.
  if (missing.length === BINARIES.length) {
    await writeFile(
      join(BIN_DIR, 'build-info.json'),
      JSON.stringify({ seconds, builtAt: new Date().toISOString() }),
    );
  }
  return seconds;
}

if (import.meta.main) {
  try {
    const seconds = await ensureBinaries();
    log(seconds === 0 ? `cache warm: ${BIN_DIR}` : `built what was missing in ${seconds} s: ${BIN_DIR}`);
  } catch (error) {
    const e = error as { message?: string; stderr?: string };
    log(`failed: ${e.message ?? String(error)}`);
    if (e.stderr) process.stderr.write(e.stderr.slice(-4000));
    process.exitCode = 1;
  }
}
