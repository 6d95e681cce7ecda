// The informer keeps mirroring a collection after the API server is stopped and started under it.
// Disruptive: e2e/run.ts runs it on its own after every other suite. The cluster's other clients
// (scheduler, controller-manager, kube-proxy, CoreDNS) are restarted with the API server, as on a
// control-plane node's restart: left running, they reconnect while the new API server still denies
// them (its RBAC caches not yet filled) and back off for up to a minute, in which time no pod is
// scheduled and no Service's rules change. ebb's own components ride the restart out.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import type { Informer } from '../../src/controller/informer.ts';
import { Daemons } from '../cluster/daemons.ts';
import { STATE_DIR } from '../cluster/paths.ts';
import { configMapInformer, core, createNamespace, deleteNamespace, eventually } from './kube.ts';

let ns: string;
let informer: Informer<V1ConfigMap>;
const restarts: string[] = [];
const labels = { e2e: 'informer' };

beforeAll(async () => {
  ns = await createNamespace('e2e-informer-restart');
  informer = configMapInformer(ns, (reason) => restarts.push(reason));
  informer.start();
  await informer.waitForSync();
});

afterAll(async () => {
  informer.stop();
  await deleteNamespace(ns).catch(() => undefined);
});

it('catches up after the API server restarts', async () => {
  const daemons = new Daemons(STATE_DIR);
  for (const name of ['coredns', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver'])
    await daemons.stop(name);
  const up = spawnSync(process.execPath, [new URL('../cluster/cluster.ts', import.meta.url).pathname, 'up'], {
    encoding: 'utf8',
  });
  expect(up.status).toBe(0);
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'two', labels }, data: { v: 'after' } },
  });
  const cm = await eventually('the configmap created after the restart', () => informer.get(`${ns}/two`));
  expect(cm.data?.v).toBe('after');
  expect(restarts.length).toBeGreaterThan(0);
});
