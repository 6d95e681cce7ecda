// Gateway replicas come and go under load: with two replicas behind ebb-gateway, deleting one
// (as a rollout or a node drain does) loses no request. The leaving replica reports not ready,
// keeps serving while the Service catches up, asks clients to reconnect, and finishes what is in
// flight before it exits. Disruptive: it changes ebb's own Deployment, so it runs after the other
// suites.
import { AutoscalingV2Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CustomResources, SERVING_SERVICES } from '../../src/controller/kube.ts';
import { gateway, Load, send, type Gateway } from './dataplane-client.ts';
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
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const hpa = kc.makeApiClient(AutoscalingV2Api);
const custom = new CustomResources(kc);
let ns = '';
let gw: Gateway;

async function gatewayReplicas(replicas: number): Promise<void> {
  await hpa.patchNamespacedHorizontalPodAutoscaler(
    { namespace: SYSTEM, name: 'ebb-gateway', body: { spec: { minReplicas: replicas } } },
    MERGE,
  );
  await apps.patchNamespacedDeploymentScale(
    { namespace: SYSTEM, name: 'ebb-gateway', body: { spec: { replicas } } },
    MERGE,
  );
}

async function readyGatewayPods(): Promise<string[]> {
  const pods = await core.listNamespacedPod({
    namespace: SYSTEM,
    labelSelector: 'app.kubernetes.io/component=gateway',
  });
  return pods.items
    .filter(
      (p) =>
        p.metadata?.deletionTimestamp == null &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    )
    .map((p) => p.metadata?.name ?? '');
}

beforeAll(async () => {
  ns = await createNamespace('gateway-failover');
  gw = await gateway('ebb-gateway', 64);
  await gatewayReplicas(2);
});

afterAll(async () => {
  await gatewayReplicas(1);
  gw.agent.destroy();
  await deleteNamespace(ns);
});

describe('gateway replicas', () => {
  it('deleting one of two gateway pods under load loses no request', async () => {
    await custom.create(SERVING_SERVICES, steadyService(ns, 'steady'));
    const host = await readyHost(ns, 'steady');
    const pods = await eventually(
      'two ready gateway pods',
      async () => {
        const ready = await readyGatewayPods();
        return ready.length === 2 ? ready : undefined;
      },
      120_000,
    );
    // Both replicas route the host before the load starts.
    await eventually('both gateways to route the host', async () => {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => send(gw, host, '/?sleep=0', 10_000)),
      );
      return answers.every((a) => a.status === 200) ? true : undefined;
    });

    const load = new Load(gw, host, '/?sleep=50', 10);
    await new Promise((r) => setTimeout(r, 2000));
    const victim = pods[0] ?? '';
    await core.deleteNamespacedPod({ namespace: SYSTEM, name: victim });
    await eventually(
      `gateway pod ${victim} gone`,
      async () => {
        const all = await core.listNamespacedPod({
          namespace: SYSTEM,
          labelSelector: 'app.kubernetes.io/component=gateway',
        });
        return all.items.some((p) => p.metadata?.name === victim) ? undefined : true;
      },
      120_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const tally = await load.stop();
    expect(tally.total).toBeGreaterThan(0);
    expect({ failed: tally.failed, failures: tally.failures.slice(0, 5) }).toEqual({
      failed: 0,
      failures: [],
    });
  });
});
