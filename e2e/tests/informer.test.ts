// The informer against the real API server: it mirrors a collection, and keeps doing so after
// the API server is restarted under it.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { Informer } from '../../src/controller/informer.ts';
import { Daemons } from '../cluster/daemons.ts';
import { STATE_DIR } from '../cluster/paths.ts';
import { core, createNamespace, deleteNamespace, eventually, kc, nodesSchedulable } from './kube.ts';

let ns: string;
let informer: Informer<V1ConfigMap>;
const events: string[] = [];
const restarts: string[] = [];

beforeAll(async () => {
  ns = await createNamespace('e2e-informer');
  informer = new Informer<V1ConfigMap>(kc, {
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: async () => {
      const list = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'e2e=informer' });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    labelSelector: 'e2e=informer',
    maxBackoffMs: 1000,
    onRestart: (reason) => restarts.push(reason),
  });
  informer.on({
    add: (cm) => events.push(`add ${cm.metadata?.name ?? ''}`),
    update: (cm) => events.push(`update ${cm.metadata?.name ?? ''}=${cm.data?.v ?? ''}`),
    delete: (cm) => events.push(`delete ${cm.metadata?.name ?? ''}`),
  });
  informer.start();
  await informer.waitForSync();
});

afterAll(async () => {
  informer.stop();
  await deleteNamespace(ns);
});

const labels = { e2e: 'informer' };

it('mirrors adds, updates and deletes', async () => {
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'one', labels }, data: { v: '1' } },
  });
  await core.replaceNamespacedConfigMap({
    name: 'one',
    namespace: ns,
    body: { metadata: { name: 'one', labels }, data: { v: '2' } },
  });
  await eventually('the update', () => (informer.get(`${ns}/one`)?.data?.v === '2' ? true : undefined));
  await core.deleteNamespacedConfigMap({ name: 'one', namespace: ns });
  await eventually('the delete', () => (events.includes('delete one') ? true : undefined));
  expect(events).toEqual(['add one', 'update one=2', 'delete one']);
  expect(informer.list()).toEqual([]);
});

it('catches up after the API server restarts', async () => {
  const daemons = new Daemons(STATE_DIR);
  await daemons.stop('kube-apiserver');
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
  // Leave the cluster as the other suites expect it: the node may have missed heartbeats.
  await nodesSchedulable();
});
