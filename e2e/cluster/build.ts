// Builds the local cluster's upstream components from the Go module proxy with the installed Go:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, kubectl, CoreDNS
// and helm for the control plane; kubelet, containerd (with ctr and its runc shim), the CNI
// plugins and the pause binary for the node. Binaries land in cache directories keyed by their
// versions; a warm cache is reused.
// Kubernetes' own module replaces its staging modules with local paths, so it is built from a
// throwaway module that pins each staging module to its published v0.x.y twin.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN_DIR, BINARIES, BUILD_DIR, NODE_BIN_DIR, NODE_BINARIES, pathExists } from './paths.ts';
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
async function goBuild(
  dir: string,
  ldflags: string,
  out: string,
  packages: string[],
  tags: string[] = [],
): Promise<void> {
  const tagArgs = tags.length > 0 ? ['-tags', tags.join(' ')] : [];
  await go(dir, ['build', '-trimpath', ...tagArgs, '-ldflags', ldflags, '-o', out, ...packages]);
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

/** Commands of k8s.io/kubernetes, from a throwaway module that pins its staging modules. */
async function buildKubernetes(out: string, cmds: string[]): Promise<void> {
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

const CONTROL_PLANE_CMDS = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubectl',
];

async function buildContainerd(out: string): Promise<void> {
  const v = VERSIONS.containerd;
  const mod = 'github.com/containerd/containerd/v2';
  const dir = await moduleDir('containerd');
  await go(dir, ['get', `${mod}@${v}`]);
  log(`containerd ${v}: compiling containerd, ctr, containerd-shim-runc-v2`);
  // The version containerd reports to the kubelet, and so in `kubectl get nodes -o wide`.
  const ldflags = `-s -w -X ${mod}/version.Version=${v.replace(/^v/, '')} -X ${mod}/version.Revision=${v}`;
  const tags = ['no_btrfs', 'no_devmapper', 'no_zfs', 'static_build', 'urfave_cli_no_docs'];
  await goBuild(dir, ldflags, `${out}/`, [`${mod}/cmd/containerd`, `${mod}/cmd/ctr`], tags);
  await goBuild(dir, ldflags, `${out}/`, [`${mod}/cmd/containerd-shim-runc-v2`], [...tags, 'no_grpc']);
}

async function buildCniPlugins(out: string): Promise<void> {
  const v = VERSIONS.cniPlugins;
  const mod = 'github.com/containernetworking/plugins';
  const dir = await moduleDir('cni-plugins');
  await go(dir, ['get', `${mod}@${v}`]);
  log(`CNI plugins ${v}: compiling bridge, host-local, loopback, portmap`);
  await mkdir(join(out, 'cni'), { recursive: true });
  const ldflags = `-s -w -X ${mod}/pkg/utils/buildversion.BuildVersion=${v}`;
  const plugins = ['main/bridge', 'ipam/host-local', 'main/loopback', 'meta/portmap'];
  await goBuild(
    dir,
    ldflags,
    `${out}/cni/`,
    plugins.map((p) => `${mod}/plugins/${p}`),
  );
}

/** The sandbox's pause process: Kubernetes' own pause.c, linked statically. */
async function buildPause(out: string): Promise<void> {
  const dir = await moduleDir('pause');
  const info = JSON.parse(
    await go(dir, ['mod', 'download', '-json', `k8s.io/kubernetes@${VERSIONS.kubernetes}`]),
  ) as { Dir: string };
  log('pause: compiling with gcc -static');
  await run('gcc', [
    '-Os',
    '-static',
    '-Wall',
    `-DVERSION=${VERSIONS.kubernetes}`,
    '-o',
    join(out, 'pause'),
    join(info.Dir, 'build', 'pause', 'linux', 'pause.c'),
  ]);
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

type BuildStep = [names: string[], build: (out: string) => Promise<void>];

/** Builds whichever of `names` are missing from `binDir`; returns the seconds spent (0 when the
 * cache was warm). */
async function ensureBuilt(binDir: string, names: readonly string[], steps: BuildStep[]): Promise<number> {
  const missing: string[] = [];
  for (const name of names) if (!(await pathExists(join(binDir, name)))) missing.push(name);
  if (missing.length === 0) return 0;
  const started = Date.now();
  const staging = `${binDir}.partial`;
  await mkdir(staging, { recursive: true });
  for (const [stepNames, build] of steps) {
    if (stepNames.every((n) => !missing.includes(n))) continue;
    const t = Date.now();
    await build(staging);
    log(`${stepNames.join(', ')} built in ${Math.round((Date.now() - t) / 1000)} s`);
  }
  // Publish all at once, so a crash mid-build never leaves a half-filled cache that looks warm.
  for (const name of names) {
    const from = join(staging, name);
    if (!(await pathExists(from))) continue;
    await mkdir(join(binDir, name, '..'), { recursive: true });
    await rename(from, join(binDir, name));
  }
  await rm(staging, { recursive: true, force: true });
  const seconds = Math.round((Date.now() - started) / 1000);
  // Only a build of every component is a cold-build figure for bench:cluster to report.
  if (missing.length === names.length) {
    await writeFile(
      join(binDir, 'build-info.json'),
      JSON.stringify({ seconds, builtAt: new Date().toISOString() }),
    );
  }
  return seconds;
}

/** The control plane's binaries and the client tools. */
export async function ensureBinaries(): Promise<number> {
  return ensureBuilt(BIN_DIR, BINARIES, [
    [['etcd'], buildEtcd],
    [CONTROL_PLANE_CMDS, (out) => buildKubernetes(out, CONTROL_PLANE_CMDS)],
    [['coredns'], buildCoreDNS],
    [['helm'], buildHelm],
  ]);
}

/** The node's binaries. runc is Debian's package (the preflight installs it). */
export async function ensureNodeBinaries(): Promise<number> {
  return ensureBuilt(NODE_BIN_DIR, NODE_BINARIES, [
    [['kubelet'], (out) => buildKubernetes(out, ['kubelet'])],
    [['containerd', 'ctr', 'containerd-shim-runc-v2'], buildContainerd],
    [['cni/bridge', 'cni/host-local', 'cni/loopback', 'cni/portmap'], buildCniPlugins],
    [['pause'], buildPause],
  ]);
}

if (import.meta.main) {
  try {
    for (const [dir, ensure] of [
      [BIN_DIR, ensureBinaries],
      [NODE_BIN_DIR, ensureNodeBinaries],
    ] as const) {
      const seconds = await ensure();
      log(seconds === 0 ? `cache warm: ${dir}` : `built what was missing in ${seconds} s: ${dir}`);
    }
  } catch (error) {
    const e = error as { message?: string; stderr?: string };
    log(`failed: ${e.message ?? String(error)}`);
    if (e.stderr) process.stderr.write(e.stderr.slice(-4000));
    process.exitCode = 1;
  }
}
