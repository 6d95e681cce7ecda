// The whole local cluster dies at once, as in a power cut or a killed session: every daemon
// (control plane, kubelet, containerd) and every shim and container gets SIGKILL, so nothing cleans
// up. `cluster up` must bring it back as a rebooted node comes back: each pod on a fresh sandbox
// with exactly one IP, ebb's components ready, and a Knative Service created before the crash
// answering through the gateway again.
// Disruptive: e2e/run.ts runs it with the API-server restart suite, after every other suite.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomResources, SERVING_SERVICES } from '../../src/controller/kube.ts';
import { CONTROL_PLANE } from '../cluster/control-plane.ts';
import { Daemons } from '../cluster/daemons.ts';
import { NODE_SERVICES } from '../cluster/node-services.ts';
import { STATE_DIR } from '../cluster/paths.ts';
import { processesIn } from '../cluster/cgroups.ts';
import { gateway, send, type Gateway } from './dataplane-client.ts';
import {
  apps,
  core,
  createNamespace,
  deleteNamespace,
  eventually,
  kc,
  readyHost,
  steadyService,
} from './kube.ts';

const SYSTEM = 'ebb-system';
let ns = '';
let host = '';
let gw: Gateway;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process of the cluster: its host daemons, and everything in the nodes' cgroups (kubelet,
 * containerd, the shims and every container). */
async function clusterPids(): Promise<number[]> {
  const daemons = new Daemons(STATE_DIR);
  const pids: number[] = [];
  for (const name of [...CONTROL_PLANE, ...NODE_SERVICES]) {
    const pid = await daemons.pid(name);
    if (pid !== undefined) pids.push(pid);
  }
  pids.push(...(await processesIn('/ebb')));
  return pids;
}

const podsOf = async (namespace: string): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace })).items.filter((p) => p.metadata?.deletionTimestamp == null);

const ready = (p: V1Pod): boolean =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

beforeAll(async () => {
  ns = await createNamespace('e2e-node-restart');
  await new CustomResources(kc).create(SERVING_SERVICES, steadyService(ns, 'steady'));
  host = await readyHost(ns, 'steady');
  gw = await gateway('ebb-gateway', 8);
  expect((await send(gw, host)).status).toBe(200);
});

afterAll(async () => {
  gw.agent.destroy();
  await deleteNamespace(ns).catch(() => undefined);
});

it('brings every pod back at one IP each, and the Service answers through the gateway again', async () => {
  const before = [...(await podsOf(SYSTEM)), ...(await podsOf(ns))].map((p) => p.metadata?.name ?? '');
  const pids = await clusterPids();
  expect(pids.length).toBeGreaterThan(CONTROL_PLANE.length + NODE_SERVICES.length);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  while (pids.some(alive)) await sleep(100);

  const up = spawnSync(process.execPath, [new URL('../cluster/cluster.ts', import.meta.url).pathname, 'up'], {
    encoding: 'utf8',
  });
  expect(`${up.stdout}${up.stderr}`).toContain('[cluster] up in');
  expect(up.status).toBe(0);

  // The same pod objects come back (no controller replaced them): one sandbox IP each, Ready.
  const after = await eventually(
    'every pod from before the crash Ready again',
    async () => {
      const pods = [...(await podsOf(SYSTEM)), ...(await podsOf(ns))];
      const back = pods.filter((p) => before.includes(p.metadata?.name ?? ''));
      return back.length === before.length && back.every(ready) ? back : undefined;
    },
    180_000,
  );
  for (const pod of after) {
    expect(pod.status?.podIPs?.map((ip) => ip.ip)).toEqual([pod.status?.podIP]);
  }
  // The controller-manager, restarted too, catches the Deployments' status up a moment later.
  await eventually('every ebb Deployment with all its replicas ready', async () => {
    const deployments = await apps.listNamespacedDeployment({ namespace: SYSTEM });
    const behind = deployments.items.filter((d) => (d.status?.readyReplicas ?? 0) !== d.spec?.replicas);
    return behind.length === 0 ? true : undefined;
  });

  const answer = await eventually(
    `${host} answering 200 through the gateway`,
    async () => {
      const a = await send(gw, host, '/', 10_000);
      return a.status === 200 ? a : undefined;
    },
    120_000,
  );
  expect(answer.status).toBe(200);
  // cluster up, then up to 3 min for the pods and 2 for the answer.
}, 420_000);
