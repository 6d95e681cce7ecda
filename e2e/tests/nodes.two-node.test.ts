// Two nodes, one of them taken away under a constant load through the gateway. A `kubectl drain`
// of the node that holds a gateway replica and revision pods must lose no request: each evicted
// pod leaves gracefully and the gateway sends new requests elsewhere. The loss of a node (every
// process on it killed at once: kubelet, containerd, the shims and the containers) may fail only
// the requests in flight on it; the count is printed. Runs on the local cluster with two nodes
// (e2e/run.ts brings the second one up for this file, and `cluster up` takes it away again).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { CustomResources, SERVING_SERVICES } from '../../src/controller/kube.ts';
import { processesIn } from '../cluster/cgroups.ts';
import { nodeLayout } from '../cluster/topology.ts';
import { gateway, gatewayReplicas, Load, readyGatewayPods, send, type Gateway } from './dataplane-client.ts';
import {
  core,
  createNamespace,
  deleteNamespace,
  eventually,
  kc,
  kubectl,
  nodesSchedulable,
  readyHost,
  readyPods,
  steadyService,
} from './kube.ts';

const custom = new CustomResources(kc);
const second = nodeLayout(2);
/** Clients of the constant load: each has at most one request in flight. */
const CLIENTS = 10;
let ns = '';
let gw: Gateway;

/** A Service with `scale` pods always up, its host once ready and every pod Ready. */
async function spreadService(name: string, scale: number): Promise<string> {
  const svc = steadyService(ns, name);
  const annotations = svc.spec.template.metadata?.annotations ?? {};
  annotations['autoscaling.knative.dev/min-scale'] = String(scale);
  await custom.create(SERVING_SERVICES, svc);
  const host = await readyHost(ns, name);
  await eventually(`${String(scale)} ready pods of ${name}`, async () =>
    (await readyPods(ns, `serving.knative.dev/service=${name}`)).length === scale ? true : undefined,
  );
  return host;
}

beforeAll(async () => {
  await nodesSchedulable();
  const nodes = (await core.listNode()).items.map((n) => n.metadata?.name);
  expect(nodes).toContain(second.name);
  ns = await createNamespace('e2e-two-nodes');
  gw = await gateway('ebb-gateway', 64);
});

afterAll(async () => {
  await kubectl('uncordon', second.name).catch(() => undefined);
  await gatewayReplicas(1);
  gw.agent.destroy();
  await deleteNamespace(ns);
});

describe('two nodes', () => {
  it('drains the node holding a gateway replica and revision pods under load without a failed request', async () => {
    // The chart spreads gateway replicas over nodes: the second goes to the new node.
    await gatewayReplicas(2);
    await eventually(
      `a ready gateway pod on ${second.name}`,
      async () => {
        const pods = await readyGatewayPods();
        return pods.length === 2 && pods.some((p) => p.spec?.nodeName === second.name) ? true : undefined;
      },
      120_000,
    );
    const host = await spreadService('drained', 4);
    const onSecond = (await readyPods(ns, 'serving.knative.dev/service=drained')).filter(
      (p) => p.spec?.nodeName === second.name,
    );
    expect(onSecond.length).toBeGreaterThan(0);
    // Both gateway replicas route the host before the load starts.
    await eventually('both gateways to route the host', async () => {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => send(gw, host, '/?sleep=0', 10_000)),
      );
      return answers.every((a) => a.status === 200) ? true : undefined;
    });

    const load = new Load(gw, host, '/?sleep=50', CLIENTS);
    await new Promise((r) => setTimeout(r, 2000));
    await kubectl('drain', second.name, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=180s');
    // Everything the drain evicted runs again on the other node before the load stops.
    await eventually(
      'the evicted pods replaced on the remaining node',
      async () => {
        const revision = await readyPods(ns, 'serving.knative.dev/service=drained');
        const gateways = await readyGatewayPods();
        const moved = [...revision, ...gateways].every((p) => p.spec?.nodeName !== second.name);
        return moved && revision.length === 4 && gateways.length === 2 ? true : undefined;
      },
      180_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const tally = await load.stop();
    process.stderr.write(
      `[two nodes] drain: ${String(tally.total)} requests, ${String(tally.failed)} failed\n`,
    );
    expect(tally.total).toBeGreaterThan(0);
    expect({ failed: tally.failed, failures: tally.failures.slice(0, 5) }).toEqual({
      failed: 0,
      failures: [],
    });
    await kubectl('uncordon', second.name);
  });

  it('loses only the requests in flight on a node whose every process is killed', async () => {
    await gatewayReplicas(1);
    const host = await spreadService('lost', 4);
    // New pods spread over both nodes again now that the second is schedulable.
    await eventually(
      `a pod of lost on ${second.name}`,
      async () => {
        const pods = await readyPods(ns, 'serving.knative.dev/service=lost');
        return pods.some((p) => p.spec?.nodeName === second.name) ? true : undefined;
      },
      120_000,
    );
    // The gateway stays on the node that survives; only revision pods are lost.
    const gateways = await readyGatewayPods();
    expect(gateways.every((p) => p.spec?.nodeName !== second.name)).toBe(true);

    const load = new Load(gw, host, '/?sleep=50', CLIENTS);
    await new Promise((r) => setTimeout(r, 2000));
    const before = load.tally.total;
    // Every process of the node at once, as when its machine goes away.
    for (let round = 0; round < 20; round++) {
      const pids = await processesIn(second.cgroup);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Until the node controller marks the node's pods not ready (node-monitor-grace-period), the
    // gateway still sees them: a connection to one is refused and goes to another pod.
    await eventually(
      `node ${second.name} NotReady and its pods out of the revision's endpoints`,
      async () => {
        const node = await core.readNode({ name: second.name });
        const notReady = node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True';
        const pods = await readyPods(ns, 'serving.knative.dev/service=lost');
        return notReady && pods.every((p) => p.spec?.nodeName !== second.name) ? true : undefined;
      },
      120_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const tally = await load.stop();
    process.stderr.write(
      `[two nodes] node loss: ${String(tally.total)} requests (${String(before)} before the kill), ${String(tally.failed)} failed: ${tally.failures.slice(0, 3).join(' | ')}\n`,
    );
    expect(tally.total).toBeGreaterThan(before);
    // Each client had at most one request in flight when the node went.
    expect(tally.failed).toBeLessThanOrEqual(CLIENTS);

    // The node comes back as a rebooted one does.
    const cluster = new URL('../cluster/cluster.ts', import.meta.url).pathname;
    const up = spawnSync(process.execPath, [cluster, 'up', '--nodes', '2'], { encoding: 'utf8' });
    expect(`${up.stdout}${up.stderr}`).toContain('[cluster] up in');
    await nodesSchedulable();
  });
});
