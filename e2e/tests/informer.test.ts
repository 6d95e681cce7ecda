// The informer against the real API server: it mirrors a collection. Its survival of an API
// server restart is in informer-restart.disruptive.test.ts, which runs after the other suites.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Informer } from '../../src/controller/informer.ts';
import { configMapInformer, core, createNamespace, deleteNamespace, eventually } from './kube.ts';

let ns: string;
let informer: Informer<V1ConfigMap>;
const events: string[] = [];

beforeAll(async () => {
  ns = await createNamespace('e2e-informer');
  informer = configMapInformer(ns);
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
