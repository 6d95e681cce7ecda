import { describe, expect, it } from '@jest/globals';
import { ControllerMetrics } from './metrics.ts';
import { WorkQueue } from './workqueue.ts';

async function value(
  m: ControllerMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const entry = (
    metric?.values as { value: number; labels: Record<string, string | number> }[] | undefined
  )?.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return entry?.value;
}

describe('ControllerMetrics', () => {
  it('counts reconciles by outcome and tracks queue depth through a real WorkQueue', async () => {
    const metrics = new ControllerMetrics();
    const hooks = metrics.forReconciler('service');
    const q = new WorkQueue({ onDepth: hooks.onDepth, baseDelayMs: 1 });
    q.add('ns/a');
    q.add('ns/b');
    expect(await value(metrics, 'ebb_controller_queue_depth', { reconciler: 'service' })).toBe(2);
    let failed = false;
    const running = q.run(
      1,
      (key) => {
        if (key === 'ns/b' && !failed) {
          failed = true;
          return Promise.reject(new Error('conflict'));
        }
        return Promise.resolve(undefined);
      },
      hooks.observe,
    );
    while (
      (await value(metrics, 'ebb_controller_reconciles_total', {
        reconciler: 'service',
        outcome: 'success',
      })) !== 2
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    q.shutDown();
    await running;
    expect(
      await value(metrics, 'ebb_controller_reconciles_total', { reconciler: 'service', outcome: 'error' }),
    ).toBe(1);
    expect(await value(metrics, 'ebb_controller_queue_depth', { reconciler: 'service' })).toBe(0);
    const text = await metrics.registry.metrics();
    expect(text).toContain('ebb_controller_reconcile_duration_seconds_count{reconciler="service"} 3');
  });

  it('reports informer restarts by reason and the leader flag', async () => {
    const metrics = new ControllerMetrics();
    metrics.informerRestarted('services', 'watch failed: ECONNRESET');
    metrics.informerRestarted('services', 'stalled');
    metrics.setLeader(true);
    expect(
      await value(metrics, 'ebb_controller_informer_restarts_total', {
        resource: 'services',
        reason: 'error',
      }),
    ).toBe(1);
    expect(
      await value(metrics, 'ebb_controller_informer_restarts_total', {
        resource: 'services',
        reason: 'stalled',
      }),
    ).toBe(1);
    expect(await value(metrics, 'ebb_controller_leader')).toBe(1);
  });
});
