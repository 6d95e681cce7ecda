// `npm run cluster:up|down|status|kubeconfig`: the local Kubernetes cluster's lifecycle. Every
// command is idempotent and safe to repeat after a crash.
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBinaries } from './build.ts';
import { CONTROL_PLANE, kubeconfigPath, startControlPlane, type ControlPlaneDirs } from './control-plane.ts';
import { Daemons } from './daemons.ts';
import { healthy } from './health.ts';
import { hostNetworkHealthy, setupHostNetwork, teardownHostNetwork } from './network.ts';
import { NODE_SERVICES, removeProxyTables, startNodeServices } from './node-services.ts';
import { binary, STATE_DIR } from './paths.ts';
import { CGROUP_PARENT, removeCgroup } from './agent/memory-cgroup.ts';
import { listSandboxNamespaces, removeNetns } from './agent/sandbox.ts';
import { ensurePki } from './pki.ts';
import { portConflicts } from './ports.ts';
import { sh, succeeds } from './shell.ts';
import { APISERVER_URL, BRIDGE_IP, KUBERNETES_SERVICE_IP, NODE_NAME, PORTS } from './topology.ts';

const dirs: ControlPlaneDirs = { state: STATE_DIR, pki: join(STATE_DIR, 'pki') };
const daemons = new Daemons(STATE_DIR);
const stateFile = join(STATE_DIR, 'host-state.json');

function say(message: string): void {
  process.stderr.write(`[cluster] ${message}\n`);
}

const HOST_TOOLS: [string, string][] = [
  ['nft', 'nftables'],
  ['iptables', 'iptables'],
  ['conntrack', 'conntrack'],
  ['openssl', 'openssl'],
  ['ip', 'iproute2'],
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
  for (const [tool, pkg] of HOST_TOOLS)
    if (!(await succeeds('sh', ['-c', `command -v ${tool}`]))) missing.push(pkg);
  if (missing.length > 0) {
    say(`installing ${missing.join(', ')} with apt-get`);
    await sh('apt-get', ['update', '-qq']);
    await sh('apt-get', ['install', '-y', '-qq', ...missing]);
  }
  const stopped = [];
  for (const name of [...CONTROL_PLANE, ...NODE_SERVICES])
    if ((await daemons.pid(name)) === undefined) stopped.push(name);
  const conflicts = portConflicts(await sh('ss', ['-Hltnp']), stopped);
  if (conflicts.length > 0) {
    const lines = conflicts.map((c) => `  port ${c.port} (for ${c.daemon}) is held by ${c.holder}`);
    throw new Error(
      `ports the local cluster needs are in use:\n${lines.join('\n')}\nStop what holds them (another Kubernetes, e.g. kind, k3s or minikube, often does), or run \`npm run cluster:down\` if it is a half-stopped ebb cluster, then try again.`,
    );
  }
}

async function up(): Promise<void> {
  const started = Date.now();
  await preflight();
  const buildSeconds = await ensureBinaries();
  if (buildSeconds > 0) say(`built the components in ${buildSeconds} s`);
  await mkdir(STATE_DIR, { recursive: true });
  let hostState: { previousForward?: string } = {};
  try {
    hostState = JSON.parse(await readFile(stateFile, 'utf8')) as typeof hostState;
  } catch {
    // first start
  }
  const previous = await setupHostNetwork();
  hostState.previousForward ??= previous;
  await writeFile(stateFile, JSON.stringify(hostState));
  await ensurePki({
    dir: dirs.pki,
    apiserverIPs: [BRIDGE_IP, KUBERNETES_SERVICE_IP],
    nodeIPs: [BRIDGE_IP],
    nodeName: NODE_NAME,
  });
  await startControlPlane(daemons, dirs);
  await startNodeServices(daemons, dirs);
  await waitNodeReady();
  say(`up in ${((Date.now() - started) / 1000).toFixed(1)} s; KUBECONFIG=${kubeconfigPath(dirs)}`);
}

/** Node Ready and the not-ready taint gone, so pods can be scheduled. */
async function waitNodeReady(): Promise<void> {
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
          NODE_NAME,
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
  throw new Error(`node ${NODE_NAME} not schedulable after 90 s: ${last}`);
}

/** Anything a crashed run left behind: pod namespaces (and their processes), the agent's memory
 * cgroups, kube-proxy's table. */
async function removeLeftovers(): Promise<void> {
  for (const ns of await listSandboxNamespaces()) await removeNetns(ns);
  await removeCgroup(CGROUP_PARENT);
  await removeProxyTables();
}

async function down(): Promise<void> {
  for (const name of [...NODE_SERVICES].reverse()) await daemons.stop(name, 20_000);
  for (const name of [...CONTROL_PLANE].reverse()) await daemons.stop(name);
  await removeLeftovers();
  let previousForward: string | undefined;
  try {
    previousForward = (JSON.parse(await readFile(stateFile, 'utf8')) as { previousForward?: string })
      .previousForward;
  } catch {
    previousForward = undefined;
  }
  await teardownHostNetwork(previousForward);
  await rm(STATE_DIR, { recursive: true, force: true });
  say('down: processes stopped, bridge, routes and nftables rules removed, state deleted');
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
    'ebb-node-agent': { url: `${APISERVER_URL}/api/v1/nodes/${NODE_NAME}`, pkiDir: dirs.pki },
  };
  for (const [name, check] of Object.entries(checks)) {
    const pid = await daemons.pid(name);
    const ok = pid !== undefined && (await healthy(check));
    rows.push([name, ok, pid === undefined ? 'not running' : `pid ${pid}, ${ok ? 'healthy' : 'unhealthy'}`]);
  }
  for (const [name, ok, detail] of rows)
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'}  ${name.padEnd(24)} ${detail}\n`);
  return rows.every(([, ok]) => ok);
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up':
      await up();
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
      process.stderr.write('usage: cluster.ts up|down|status|kubeconfig\n');
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv[2]);
} catch (error) {
  say(`failed: ${(error as Error).message}`);
  say(`logs: ${daemons.logDir}`);
  process.exitCode = 1;
}
