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

it('resyncs every cached object once per period, a slice at a time', async () => {
  const names = Array.from({ length: 12 }, (_, i) => `resync-${i}`);
  await Promise.all(
    names.map((name) =>
      core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name, labels }, data: { v: '1' } },
      }),
    ),
  );
  // A 4 s period is four slices of about three objects.
  const resyncing = configMapInformer(ns, undefined, 4000);
  const deliveries: { name: string; batch: number }[] = [];
  let batch = 0;
  let lastAt = 0;
  resyncing.on({
    update: (cm, old) => {
      if (cm !== old) return; // a real change, not a resync
      const now = performance.now();
      if (now - lastAt > 100) batch++;
      lastAt = now;
      deliveries.push({ name: cm.metadata?.name ?? '', batch });
    },
  });
  resyncing.start();
  try {
    await resyncing.waitForSync();
    expect(resyncing.list()).toHaveLength(names.length);
    await eventually('one full resync period', () =>
      names.every((n) => deliveries.some((d) => d.name === n)) ? true : undefined,
    );
    const firstPeriod = deliveries.filter((d) => d.batch <= 4);
    expect(firstPeriod.map((d) => d.name).sort()).toEqual([...names].sort());
    expect(new Set(firstPeriod.map((d) => d.batch)).size).toBeGreaterThan(1);
  } finally {
    resyncing.stop();
  }
});
