// A real Kubernetes node: upstream kubelet and containerd with runc and the CNI plugins, joined to
// the local control plane. What these machines need (cgroup v1, no CAP_SYS_RESOURCE, kubelet's
// host-wide sysctls, images from the local registry) is set here; docs/local-cluster.md says why.
// Each node's kubelet and containerd share one private mount namespace, so the volumes kubelet
// mounts are the ones runc sees, and no container mount reaches the host's mount table.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureCgroup, procsFiles, removeCgroup } from './cgroups.ts';
import type { ControlPlaneDirs } from './control-plane.ts';
import { kubeconfigPath } from './control-plane.ts';
import type { Daemons } from './daemons.ts';
import { writeIfChanged } from './files.ts';
import { waitHealthy } from './health.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { CNI_BIN_DIR, nodeBinary } from './paths.ts';
import { nodeIdentity } from './pki.ts';
import { sh, succeeds } from './shell.ts';
import {
  APISERVER_URL,
  BRIDGE,
  BRIDGE_IP,
  CLUSTER_DOMAIN,
  DNS_SERVICE_IP,
  POD_CIDR,
  REGISTRY_ADDRESS,
  SERVICE_CIDR,
  type NodeLayout,
} from './topology.ts';

/** Where the nodes keep sockets, containerd's state and their mount namespaces. */
export const RUN_ROOT = '/run/ebb';
/** Debian's runc (the preflight installs the package). */
export const RUNC = '/usr/sbin/runc';
/** The sandbox image: Kubernetes' pause, built locally and served by the local registry. */
export const PAUSE_IMAGE = 'dev.local/pause:3.10';
/** Registry hosts whose images the local registry serves. */
export const LOCAL_REGISTRY_HOSTS = ['dev.local', 'knative.test'];
/**
 * Host paths that containerd's libraries use whatever its configuration says: libcni keeps its
 * results in /var/lib/cni, and each runc shim puts its socket in /run/containerd/s. Inside the
 * node's mount namespace each is the node's own directory, so nodes do not share them and the
 * host's stay untouched (cluster:up creates an empty mount point if the host has none, and
 * cluster:down removes it).
 */
export function privatePaths(dirs: NodeDirs): { host: string; node: string }[] {
  return [
    { host: '/var/lib/cni', node: join(dirs.state, 'cni', 'cache') },
    { host: '/run/containerd', node: join(dirs.run, 'containerd-run') },
  ];
}

/**
 * kubelet sets these for the whole machine at start (vm.overcommit_memory=1, kernel.panic=10,
 * kernel.panic_on_oops=1). Inside the node's mount namespace each is a file holding the value
 * kubelet wants, so it finds them set and writes nothing to the host's kernel.
 */
const KUBELET_SYSCTLS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
};

export interface NodeDirs {
  /** Persistent state: containerd's content and snapshots, kubelet's root, configuration. */
  state: string;
  /** Sockets and containerd's runtime state. */
  run: string;
  /** The file the node's mount namespace is pinned to. */
  mountNamespace: string;
}

export function nodeDirs(stateDir: string, node: NodeLayout): NodeDirs {
  return {
    state: join(stateDir, 'nodes', node.name),
    run: join(RUN_ROOT, node.name),
    mountNamespace: join(RUN_ROOT, 'mnt', node.name),
  };
}

export function containerdSocket(dirs: NodeDirs): string {
  return join(dirs.run, 'containerd.sock');
}

export function daemonNames(node: NodeLayout): { containerd: string; kubelet: string } {
  return { containerd: `containerd-${node.name}`, kubelet: `kubelet-${node.name}` };
}

function toml(value: string | number | boolean | string[]): string {
  if (Array.isArray(value)) return `[${value.map((v) => toml(v)).join(', ')}]`;
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** containerd's configuration (version 3, containerd 2.x). */
export function containerdConfig(dirs: NodeDirs): string {
  const table = (name: string, entries: Record<string, string | number | boolean | string[]>): string =>
    [`[${name}]`, ...Object.entries(entries).map(([k, v]) => `  ${k} = ${toml(v)}`), ''].join('\n');
  const cri = "plugins.'io.containerd.cri.v1.runtime'";
  return [
    'version = 3',
    `root = ${toml(join(dirs.state, 'containerd'))}`,
    `state = ${toml(join(dirs.run, 'containerd'))}`,
    '',
    table('grpc', { address: containerdSocket(dirs) }),
    table('ttrpc', { address: `${containerdSocket(dirs)}.ttrpc` }),
    // The opt plugin and NRI would otherwise create /opt/containerd and /var/run/nri on the host.
    table("plugins.'io.containerd.internal.v1.opt'", { path: join(dirs.state, 'opt') }),
    table("plugins.'io.containerd.nri.v1.nri'", { disable: true }),
    table("plugins.'io.containerd.cri.v1.images'", { snapshotter: 'overlayfs' }),
    table("plugins.'io.containerd.cri.v1.images'.pinned_images", { sandbox: PAUSE_IMAGE }),
    table("plugins.'io.containerd.cri.v1.images'.registry", { config_path: join(dirs.state, 'certs.d') }),
    // No CAP_SYS_RESOURCE here: CRI's -998 for the sandbox and -997 for Guaranteed pods would fail
    // in runc. Restricted, they stay at the daemon's own score (0).
    table(cri, {
      restrict_oom_score_adj: true,
      netns_mounts_under_state_dir: true,
      disable_apparmor: true,
    }),
    table(`${cri}.containerd`, { default_runtime_name: 'runc' }),
    table(`${cri}.containerd.runtimes.runc`, { runtime_type: 'io.containerd.runc.v2' }),
    table(`${cri}.containerd.runtimes.runc.options`, {
      BinaryName: RUNC,
      SystemdCgroup: false,
      Root: join(dirs.run, 'runc'),
    }),
    table(`${cri}.cni`, { bin_dirs: [CNI_BIN_DIR], conf_dir: join(dirs.state, 'cni', 'net.d') }),
    table("plugins.'io.containerd.grpc.v1.cri'", {
      stream_server_address: '127.0.0.1',
      stream_server_port: '0',
    }),
  ].join('\n');
}

/** The pod network: every node's pods on the one bridge, each node with its own address range. */
export function cniConfig(dirs: NodeDirs, node: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'ebb',
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE,
          // The bridge and its address belong to network.ts; the plugin only plugs veths in.
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: join(dirs.state, 'cni', 'ipam'),
            ranges: [
              [
                {
                  subnet: POD_CIDR,
                  rangeStart: node.podRange.start,
                  rangeEnd: node.podRange.end,
                  gateway: BRIDGE_IP,
                },
              ],
            ],
            // The pod range is on-link; the service range goes to the host, where kube-proxy's
            // rules take it. No default route: nothing else is reachable from a pod.
            routes: [{ dst: SERVICE_CIDR, gw: BRIDGE_IP }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true }, backend: 'nftables' },
      ],
    },
    null,
    2,
  );
}

/** containerd's hosts.toml for a registry host the local registry serves. The server line alone
 * (no [host] table repeating it) makes one request per lookup, not two. */
export function registryHosts(): string {
  return `server = ${toml(`http://${REGISTRY_ADDRESS}`)}\n`;
}

export function kubeletConfig(dirs: NodeDirs, pkiDir: string, node: NodeLayout): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: node.ip,
    port: node.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: node.healthzPort,
    tlsCertFile: join(pkiDir, `kubelet-${node.name}.crt`),
    tlsPrivateKeyFile: join(pkiDir, `kubelet-${node.name}.key`),
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: join(pkiDir, 'ca.crt') },
    },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${containerdSocket(dirs)}`,
    // A cgroup v1 hybrid host: kubelet 1.35 refuses v1 unless told, and only cgroupfs works.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: node.cgroup,
    // No CAP_SYS_RESOURCE: kubelet cannot lower its own oom_score_adj.
    oomScoreAdj: 0,
    // The pod network's forwarding rules are network.ts's; kubelet adds none.
    makeIPTablesUtilChains: false,
    failSwapOn: false,
    clusterDNS: [DNS_SERVICE_IP],
    clusterDomain: CLUSTER_DOMAIN,
    // Pods get the cluster's DNS only, never the host's resolvers.
    resolvConf: '',
    podLogsDir: join(dirs.state, 'pod-logs'),
    volumePluginDir: join(dirs.state, 'volume-plugins'),
    maxPods: 250,
    serializeImagePulls: false,
    // A test machine's disk is shared with everything else: evict only when it is really full, and
    // never garbage-collect the images the suites need.
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    shutdownGracePeriod: '0s',
    containerLogMaxSize: '10Mi',
  });
}

async function isMountPoint(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === path);
}

/**
 * The node's private mount namespace, pinned to a file so it outlives the command that made it.
 * Inside it, kubelet's sysctls are files and libcni's cache is the node's own directory.
 */
async function ensureMountNamespace(dirs: NodeDirs): Promise<void> {
  if (await isMountPoint(dirs.mountNamespace)) return;
  const pinDir = join(RUN_ROOT, 'mnt');
  await mkdir(pinDir, { recursive: true });
  // A namespace can be pinned only on a mount that does not propagate.
  if (!(await isMountPoint(pinDir))) {
    await sh('mount', ['--bind', pinDir, pinDir]);
    await sh('mount', ['--make-private', pinDir]);
  }
  await writeFile(dirs.mountNamespace, '');
  await sh('unshare', [`--mount=${dirs.mountNamespace}`, '--propagation', 'private', 'true']);
  const binds: string[] = [];
  for (const [key, value] of Object.entries(KUBELET_SYSCTLS)) {
    const file = join(dirs.state, 'sysctl', key.replace('/', '.'));
    await writeFile(file, `${value}\n`);
    binds.push(`mount --bind ${file} /proc/sys/${key}`);
  }
  for (const path of privatePaths(dirs)) binds.push(`mount --bind ${path.node} ${path.host}`);
  await sh('nsenter', [`--mount=${dirs.mountNamespace}`, '--', 'sh', '-ec', binds.join('\n')]);
}

/** A launcher that puts the daemon in the node's cgroup and mount namespace, then execs it. */
async function launcher(dirs: NodeDirs, node: NodeLayout, cgroup: string): Promise<string[]> {
  const join = (await procsFiles(`${node.cgroup}/${cgroup}`)).map((f) => `echo $$ > ${f}`).join('; ');
  return ['-ec', `${join}; exec nsenter --mount=${dirs.mountNamespace} -- "$@"`, 'node-launcher'];
}

export async function startNode(
  daemons: Daemons,
  cp: ControlPlaneDirs,
  node: NodeLayout,
  hostState: { createdPaths?: string[] },
): Promise<void> {
  const dirs = nodeDirs(cp.state, node);
  for (const d of ['sysctl', 'cni/net.d', 'cni/ipam', 'cni/cache', 'pod-logs', 'volume-plugins', 'kubelet'])
    await mkdir(join(dirs.state, d), { recursive: true });
  await mkdir(dirs.run, { recursive: true });
  for (const host of LOCAL_REGISTRY_HOSTS) {
    await mkdir(join(dirs.state, 'certs.d', host), { recursive: true });
    await writeIfChanged(join(dirs.state, 'certs.d', host, 'hosts.toml'), registryHosts());
  }
  await writeIfChanged(join(dirs.state, 'containerd.toml'), containerdConfig(dirs));
  await writeIfChanged(join(dirs.state, 'cni', 'net.d', '10-ebb.conflist'), cniConfig(dirs, node));
  await writeIfChanged(join(dirs.state, 'kubelet.yaml'), kubeletConfig(dirs, cp.pki, node));
  const identity = nodeIdentity(node.name).file;
  await writeKubeconfig(cp.pki, identity, APISERVER_URL, kubeconfigPath(cp, identity));
  // The node's address, beside the bridge's own for node 1.
  if (node.ip !== BRIDGE_IP) await sh('ip', ['addr', 'replace', `${node.ip}/32`, 'dev', BRIDGE]);
  for (const path of privatePaths(dirs)) {
    await mkdir(path.node, { recursive: true });
    if (existsSync(path.host)) continue;
    await mkdir(path.host, { recursive: true });
    hostState.createdPaths = [...new Set([...(hostState.createdPaths ?? []), path.host])];
  }
  await ensureCgroup(`${node.cgroup}/daemons`);
  await ensureMountNamespace(dirs);
  const names = daemonNames(node);
  await daemons.start({
    name: names.containerd,
    command: '/bin/sh',
    args: [
      ...(await launcher(dirs, node, 'daemons')),
      nodeBinary('containerd'),
      '--config',
      join(dirs.state, 'containerd.toml'),
    ],
    exe: nodeBinary('containerd'),
  });
  await waitFor(`containerd on ${node.name}`, 30_000, () =>
    succeeds(nodeBinary('ctr'), ['--address', containerdSocket(dirs), 'version']),
  );
  await daemons.start({
    name: names.kubelet,
    command: '/bin/sh',
    args: [
      ...(await launcher(dirs, node, 'daemons')),
      nodeBinary('kubelet'),
      `--config=${join(dirs.state, 'kubelet.yaml')}`,
      `--kubeconfig=${kubeconfigPath(cp, identity)}`,
      `--root-dir=${join(dirs.state, 'kubelet')}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${node.ip}`,
      '--v=1',
    ],
    exe: nodeBinary('kubelet'),
  });
  const alive = async () => (await daemons.pid(names.kubelet)) !== undefined;
  await waitHealthy(
    `kubelet on ${node.name}`,
    { url: `http://127.0.0.1:${node.healthzPort}/healthz` },
    60_000,
    alive,
  );
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
}

/**
 * Stops a node and removes everything it made: kubelet, containerd, the shims and every container
 * (all in the node's cgroup subtree), the mount namespace with its mounts and the pods' network
 * namespaces, the node's address on the bridge, and its state.
 */
export async function stopNode(daemons: Daemons, stateDir: string, node: NodeLayout): Promise<void> {
  const dirs = nodeDirs(stateDir, node);
  const names = daemonNames(node);
  await daemons.stop(names.kubelet, 10_000);
  await daemons.stop(names.containerd, 10_000);
  await removeCgroup(node.cgroup);
  if (await isMountPoint(dirs.mountNamespace)) await sh('umount', [dirs.mountNamespace]);
  await rm(dirs.run, { recursive: true, force: true });
  await rm(dirs.mountNamespace, { force: true });
  if (node.ip !== BRIDGE_IP)
    await sh('ip', ['addr', 'del', `${node.ip}/32`, 'dev', BRIDGE]).catch(() => undefined);
}

/** After every node is stopped: the pin mount, the run directory, the node cgroup root, portmap's
 * nftables table, and the host paths that `startNode` created. */
export async function removeNodeLeftovers(createdPaths: string[]): Promise<void> {
  const pinDir = join(RUN_ROOT, 'mnt');
  while (await isMountPoint(pinDir)) await sh('umount', [pinDir]);
  await rm(RUN_ROOT, { recursive: true, force: true });
  await removeCgroup('/ebb');
  await sh('nft', ['delete', 'table', 'ip', 'cni_hostport']).catch(() => undefined);
  for (const path of createdPaths) await rm(path, { recursive: true, force: true });
}
