// `npm run bench:cluster`: the local cluster's figures for docs/benchmarks.md — the cold build
// time (recorded by the build), warm `cluster:up` time, pod create → Ready latency for
// dev.local/helloworld, and the control plane's memory. Bounded: 30 pods, one at a time.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Daemons } from '../e2e/cluster/daemons.ts';
import { BIN_DIR, NODE_BIN_DIR, STATE_DIR } from '../e2e/cluster/paths.ts';

const PODS = Number(process.env.BENCH_PODS ?? 30);
const cluster = new URL('../e2e/cluster/cluster.ts', import.meta.url).pathname;

function clusterCommand(command: string): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cluster, command], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`cluster ${command} failed`);
  return (performance.now() - started) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** The control plane's and the node's cold builds, as each recorded it. */
const buildSeconds = [BIN_DIR, NODE_BIN_DIR]
  .map(
    (dir) => (JSON.parse(readFileSync(join(dir, 'build-info.json'), 'utf8')) as { seconds: number }).seconds,
  )
  .reduce((a, b) => a + b, 0);
clusterCommand('up');
clusterCommand('down');
const warmUp = clusterCommand('up');

const kc = new KubeConfig();
kc.loadFromFile(join(STATE_DIR, 'admin.kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const namespace = `bench-${Date.now().toString(36)}`;
await core.createNamespace({ body: { metadata: { name: namespace } } });
while ((await core.listNamespacedServiceAccount({ namespace })).items.length === 0) await sleep(100);

const latencies: number[] = [];
for (let i = 0; i < PODS; i++) {
  const name = `hello-${i}`;
  const started = performance.now();
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        containers: [
          {
            name: 'hello',
            image: 'dev.local/helloworld',
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    },
  });
  for (;;) {
    const pod = await core.readNamespacedPod({ name, namespace });
    if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
    await sleep(5);
  }
  latencies.push(performance.now() - started);
  await core.deleteNamespacedPod({ name, namespace });
}

const daemons = new Daemons(STATE_DIR);
const memory: Record<string, number> = {};
for (const name of [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'coredns',
  'registry',
  'kubelet-ebb-node',
  'containerd-ebb-node',
]) {
  const pid = await daemons.pid(name);
  if (pid !== undefined) memory[name] = Math.round(await rssMiB(pid));
}
await core.deleteNamespace({ name: namespace });

const sorted = [...latencies].sort((a, b) => a - b);
const controlPlane = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].reduce(
  (n, k) => n + (memory[k] ?? 0),
  0,
);
const report = {
  machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
  coldBuildSeconds: buildSeconds,
  warmClusterUpSeconds: Number(warmUp.toFixed(1)),
  podReadyMs: {
    n: PODS,
    p50: Math.round(percentile(sorted, 50)),
    p90: Math.round(percentile(sorted, 90)),
    max: Math.round(sorted.at(-1) ?? NaN),
  },
  rssMiB: { ...memory, controlPlaneTotal: controlPlane },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
