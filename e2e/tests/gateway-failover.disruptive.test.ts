// Gateway replicas come and go under load: with two replicas behind ebb-gateway, deleting one
// (as a rollout or a node drain does) loses no request. The leaving replica reports not ready,
// keeps serving while the Service catches up, asks clients to reconnect, and finishes what is in
// flight before it exits. And with 1, 2 or 3 replicas, containerConcurrency 1 still means one
// request at a time in the pod: the replicas share the pods out (docs/dataplane.md). Disruptive:
// it changes ebb's own Deployment, so it runs after the other suites.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CustomResources, SERVING_SERVICES } from '../../src/controller/kube.ts';
import { Agent } from 'node:http';
import { z } from 'zod';
import {
  burst,
  gateway,
  gatewayReplicas,
  Load,
  readyGatewayPods,
  send,
  tally,
  type Gateway,
} from './dataplane-client.ts';
import { core, createNamespace, deleteNamespace, eventually, kc, readyHost, steadyService } from './kube.ts';

const SYSTEM = 'ebb-system';
const custom = new CustomResources(kc);
let ns = '';
let gw: Gateway;

/** Names of the gateway pods that are Ready and not being deleted. */
const readyGatewayNames = async (): Promise<string[]> =>
  (await readyGatewayPods()).map((p) => p.metadata?.name ?? '');

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
        const ready = await readyGatewayNames();
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

describe('containerConcurrency across gateway replicas', () => {
  /** What dev.local/autoscale answers: requests in flight now and the most it ever held at once. */
  const AutoscaleAnswer = z.object({ inflight: z.number(), maxInflight: z.number() });

  it.each([[1], [2], [3]])(
    'with %i gateway replica(s), a containerConcurrency 1 pod never holds two requests, and none fails',
    async (replicas) => {
      await gatewayReplicas(replicas);
      await eventually(
        `${String(replicas)} ready gateway pod(s)`,
        async () => ((await readyGatewayNames()).length === replicas ? true : undefined),
        120_000,
      );
      const name = `single-${String(replicas)}`;
      const svc = steadyService(ns, name);
      const template = svc.spec.template;
      if (template.spec === undefined || template.metadata?.annotations === undefined)
        throw new Error('steadyService has no template');
      template.spec.containerConcurrency = 1;
      template.metadata.annotations['autoscaling.knative.dev/max-scale'] = '1';
      await custom.create(SERVING_SERVICES, svc);
      const host = await readyHost(ns, name);
      // Every replica routes the host before the bursts (kube-proxy spreads connections over them).
      await eventually('the gateways to route the host', async () => {
        const answers = await Promise.all(
          Array.from({ length: 10 }, () => send(gw, host, '/?sleep=0', 10_000)),
        );
        return answers.every((a) => a.status === 200) ? true : undefined;
      });
      // A new connection per request, so that kube-proxy spreads them over every replica.
      const fresh: Gateway = { ...gw, agent: new Agent({ keepAlive: false }) };
      const answered = [
        ...(await burst(fresh, host, '/?sleep=100', 20)),
        ...(await burst(fresh, host, '/?sleep=100', 20)),
      ];
      expect(tally(answered).failures).toEqual([]);
      const held = answered.map((a) => AutoscaleAnswer.parse(JSON.parse(a.body)).maxInflight);
      expect(Math.max(...held)).toBe(1);
    },
  );
});
