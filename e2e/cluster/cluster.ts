// `npm run cluster:up|down|status|kubeconfig`: the local Kubernetes cluster's lifecycle. Every
// command is idempotent and safe to repeat after a crash.
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBinaries, ensureNodeBinaries } from './build.ts';
import { CONTROL_PLANE, kubeconfigPath, startControlPlane, type ControlPlaneDirs } from './control-plane.ts';
import { Daemons } from './daemons.ts';
import { healthy } from './health.ts';
import { hostNetworkHealthy, setupHostNetwork, teardownHostNetwork } from './network.ts';
import { buildClusterImages } from './images/app-images.ts';
import { daemonNames, nodeDirs, removeNodeLeftovers, startNode, stopNode } from './kubelet-node.ts';
import { NODE_SERVICES, removeProxyTables, startNodeServices, waitNodeServices } from './node-services.ts';
import { binary, nodeBinary, pathExists, STATE_DIR } from './paths.ts';
import { ensurePki } from './pki.ts';
import { portConflicts } from './ports.ts';
import { sh, succeeds } from './shell.ts';
import {
  APISERVER_URL,
  BRIDGE_IP,
  KUBERNETES_SERVICE_IP,
  MAX_NODES,
  nodeLayout,
  parseNodeCount,
  PORTS,
  REGISTRY_ADDRESS,
  type NodeLayout,
} from './topology.ts';

const dirs: ControlPlaneDirs = { state: STATE_DIR, pki: join(STATE_DIR, 'pki') };
const daemons = new Daemons(STATE_DIR);
const stateFile = join(STATE_DIR, 'host-state.json');

function say(message: string): void {
  process.stderr.write(`[cluster] ${message}\n`);
}

interface HostState {
  previousForward?: string;
  /** Host paths cluster:up had to create, for cluster:down to remove. */
  createdPaths?: string[];
}

/** A shell test for each Debian package the cluster needs. */
const HOST_PACKAGES: [string, string][] = [
  ['command -v nft', 'nftables'],
  ['command -v iptables', 'iptables'],
  ['command -v conntrack', 'conntrack'],
  ['command -v openssl', 'openssl'],
  ['command -v ip', 'iproute2'],
  ['command -v nsenter', 'util-linux'],
  ['test -x /usr/sbin/runc', 'runc'],
  ['command -v gcc', 'gcc'],
  ['test -f /usr/lib/x86_64-linux-gnu/libc.a', 'libc6-dev'],
];

async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the local cluster needs root: it creates network namespaces, a bridge and nftables rules. Run it as root (sudo -E npm run cluster:up).',
    );
  }
  if (!(await succeeds('go', ['version']))) {
    throw new Error(
      'no Go toolchain on PATH: the cluster builds Kubernetes from Go modules. Install Go 1.26 or newer.',
    );
  }
  if (!(await succeeds('ip', ['netns', 'list'])))
    throw new Error('network namespaces are not available (`ip netns list` failed)');
  const missing = [];
  for (const [test, pkg] of HOST_PACKAGES) if (!(await succeeds('sh', ['-c', test]))) missing.push(pkg);
  if (missing.length > 0) {
    say(`installing ${missing.join(', ')} with apt-get`);
    await sh('apt-get', ['update', '-qq']);
    await sh('apt-get', ['install', '-y', '-qq', ...missing]);
  }
  const stopped = [];
  for (const name of [...CONTROL_PLANE, ...NODE_SERVICES, ...Object.values(daemonNames(nodeLayout(1)))])
    if ((await daemons.pid(name)) === undefined) stopped.push(name);
  const conflicts = portConflicts(await sh('ss', ['-Hltnp']), stopped);
  if (conflicts.length > 0) {
    const lines = conflicts.map((c) => `  port ${c.port} (for ${c.daemon}) is held by ${c.holder}`);
    throw new Error(
      `ports the local cluster needs are in use:\n${lines.join('\n')}\nStop what holds them (another Kubernetes, e.g. kind, k3s or minikube, often does), or run \`npm run cluster:down\` if it is a half-stopped ebb cluster, then try again.`,
    );
  }
}

async function readHostState(): Promise<HostState> {
  try {
    return JSON.parse(await readFile(stateFile, 'utf8')) as HostState;
  } catch {
    return {};
  }
}

/** Nodes that have state or a running daemon, whether or not this run asked for them. */
async function existingNodes(): Promise<NodeLayout[]> {
  const found: NodeLayout[] = [];
  for (let i = 1; i <= MAX_NODES; i++) {
    const node = nodeLayout(i);
    const names = daemonNames(node);
    if (
      (await pathExists(nodeDirs(STATE_DIR, node).state)) ||
      (await daemons.pid(names.kubelet)) !== undefined ||
      (await daemons.pid(names.containerd)) !== undefined
    )
      found.push(node);
  }
  return found;
}

async function up(args: string[]): Promise<void> {
  const started = Date.now();
  const count = parseNodeCount(args);
  const nodes = Array.from({ length: count }, (_, i) => nodeLayout(i + 1));
  await preflight();
  const buildSeconds = (await ensureBinaries()) + (await ensureNodeBinaries());
  if (buildSeconds > 0) say(`built the components in ${buildSeconds} s`);
  await mkdir(STATE_DIR, { recursive: true });
  const hostState = await readHostState();
  const previous = await setupHostNetwork();
  hostState.previousForward ??= previous;
  await writeFile(stateFile, JSON.stringify(hostState));
  await ensurePki({
    dir: dirs.pki,
    apiserverIPs: [BRIDGE_IP, KUBERNETES_SERVICE_IP],
    nodes: nodes.map((n) => ({ name: n.name, ip: n.ip })),
  });
  await startControlPlane(daemons, dirs);
  const images = await buildClusterImages({ pauseBinary: nodeBinary('pause') });
  if (images.seconds > 0) say(`built ${images.images.length} images in ${images.seconds.toFixed(1)} s`);
  await startNodeServices(daemons, dirs);
  for (const extra of (await existingNodes()).filter((n) => n.index > count)) await removeNode(extra, count);
  for (const node of nodes) await startNode(daemons, dirs, node, hostState);
  await writeFile(stateFile, JSON.stringify(hostState));
  await waitNodeServices(daemons, dirs);
  for (const node of nodes) await waitNodeReady(node.name);
  say(`up in ${((Date.now() - started) / 1000).toFixed(1)} s; KUBECONFIG=${kubeconfigPath(dirs)}`);
}

/** A node this run did not ask for, taken out as an operator would: drained (its pods evicted to
 * the others), stopped, and its Node object and anything still bound to it deleted. */
async function removeNode(node: NodeLayout, count: number): Promise<void> {
  say(`removing ${node.name}: this run asked for ${count} node(s)`);
  const kubectl = (...args: string[]) =>
    sh(binary('kubectl'), ['--kubeconfig', kubeconfigPath(dirs), ...args]);
  if ((await daemons.pid(daemonNames(node).kubelet)) !== undefined) {
    await kubectl(
      'drain',
      node.name,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--force',
      '--timeout=120s',
    ).catch((error: unknown) => {
      say(`drain of ${node.name} did not finish (${(error as Error).message}); stopping it anyway`);
    });
  }
  await stopNode(daemons, STATE_DIR, node);
  await kubectl('delete', 'node', node.name, '--ignore-not-found');
  await kubectl(
    'delete',
    'pods',
    '--all-namespaces',
    `--field-selector=spec.nodeName=${node.name}`,
    '--grace-period=0',
    '--force',
  );
}

/** Node Ready and the not-ready taint gone, so pods can be scheduled. */
async function waitNodeReady(nodeName: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const node = JSON.parse(
        await sh(binary('kubectl'), [
          '--kubeconfig',
          kubeconfigPath(dirs),
          'get',
          'node',
          nodeName,
          '-o',
          'json',
        ]),
      ) as {
        spec?: { taints?: { key: string }[] };
        status?: { conditions?: { type: string; status: string }[] };
      };
      const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const tainted = (node.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'));
      if (ready && !tainted) return;
      last = ready ? 'waiting for the not-ready taint to go' : 'node not Ready';
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`node ${nodeName} not schedulable after 90 s: ${last}`);
}

async function down(): Promise<void> {
  const hostState = await readHostState();
  for (let i = MAX_NODES; i >= 1; i--) await stopNode(daemons, STATE_DIR, nodeLayout(i));
  await removeNodeLeftovers(hostState.createdPaths ?? []);
  for (const name of [...NODE_SERVICES].reverse()) await daemons.stop(name, 20_000);
  for (const name of [...CONTROL_PLANE].reverse()) await daemons.stop(name);
  await removeProxyTables();
  await teardownHostNetwork(hostState.previousForward);
  await rm(STATE_DIR, { recursive: true, force: true });
  say('down: processes stopped; mounts, cgroups, bridge, routes and nftables rules removed; state deleted');
}

async function status(): Promise<boolean> {
  const rows: [string, boolean, string][] = [];
  const network = await hostNetworkHealthy();
  rows.push(['host network', network === undefined, network ?? 'bridge, route and nftables rules in place']);
  const checks: Record<string, Parameters<typeof healthy>[0]> = {
    etcd: { url: `http://127.0.0.1:${PORTS.etcdClient}/health` },
    'kube-apiserver': { url: `${APISERVER_URL}/readyz`, pkiDir: dirs.pki },
    'kube-controller-manager': {
      url: `https://127.0.0.1:${PORTS.controllerManager}/healthz`,
      selfSigned: true,
    },
    'kube-scheduler': { url: `https://127.0.0.1:${PORTS.scheduler}/healthz`, selfSigned: true },
    'kube-proxy': { url: `http://127.0.0.1:${PORTS.proxyHealth}/healthz` },
    coredns: { url: `http://127.0.0.1:${PORTS.dnsHealth}/health` },
    registry: { url: `http://${REGISTRY_ADDRESS}/v2/` },
  };
  for (const node of await existingNodes()) {
    const names = daemonNames(node);
    checks[names.containerd] = { url: `http://127.0.0.1:${node.healthzPort}/healthz` };
    checks[names.kubelet] = { url: `http://127.0.0.1:${node.healthzPort}/healthz` };
  }
  for (const [name, check] of Object.entries(checks)) {
    const pid = await daemons.pid(name);
    const ok = pid !== undefined && (await healthy(check));
    rows.push([name, ok, pid === undefined ? 'not running' : `pid ${pid}, ${ok ? 'healthy' : 'unhealthy'}`]);
  }
  for (const [name, ok, detail] of rows)
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'}  ${name.padEnd(24)} ${detail}\n`);
  return rows.every(([, ok]) => ok);
}

async function main(command: string | undefined, args: string[]): Promise<number> {
  switch (command) {
    case 'up':
      await up(args);
      return 0;
    case 'down':
      await down();
      return 0;
    case 'status':
      return (await status()) ? 0 : 1;
    case 'kubeconfig': {
      const path = kubeconfigPath(dirs);
      try {
        await access(path);
      } catch {
        process.stderr.write('no cluster: run `npm run cluster:up` first\n');
        return 1;
      }
      process.stdout.write(`${path}\n`);
      return 0;
    }
    default:
      process.stderr.write('usage: cluster.ts up [--nodes N]|down|status|kubeconfig\n');
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv[2], process.argv.slice(3));
} catch (error) {
  say(`failed: ${(error as Error).message}`);
  say(`logs: ${daemons.logDir}`);
  process.exitCode = 1;
}
