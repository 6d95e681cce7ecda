import { describe, expect, test } from '@jest/globals';
import { Registry } from 'prom-client';
import { GatewayMetrics } from './metrics.ts';

async function seriesOf(registry: Registry, revision: string): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((line) => line.includes(`revision="${revision}"`));
}

describe('GatewayMetrics.forgetRevision', () => {
  test("removes every series of a deleted revision and keeps the others'", async () => {
    const registry = new Registry();
    const metrics = new GatewayMetrics(registry, () => []);
    metrics.request('ns', 'gone-00001', 200, 0.01);
    metrics.request('ns', 'gone-00001', 503, 0.002);
    metrics.coldStart('ns', 'gone-00001', 0.2);
    metrics.request('ns', 'kept-00001', 200, 0.01);
    expect((await seriesOf(registry, 'gone-00001')).some((l) => l.includes('code="503"'))).toBe(true);

    await metrics.forgetRevision('ns', 'gone-00001');
    expect(await seriesOf(registry, 'gone-00001')).toEqual([]);
    const kept = await seriesOf(registry, 'kept-00001');
    expect(kept).toContain('ebb_gateway_requests_total{namespace="ns",revision="kept-00001",code="200"} 1');
  });

  test('forgetting a revision that never had a request is harmless', async () => {
    const registry = new Registry();
    const metrics = new GatewayMetrics(registry, () => []);
    await metrics.forgetRevision('ns', 'never-00001');
    metrics.request('ns', 'never-00001', 200, 0.01);
    expect(await seriesOf(registry, 'never-00001')).toContain(
      'ebb_gateway_requests_total{namespace="ns",revision="never-00001",code="200"} 1',
    );
  });
});
