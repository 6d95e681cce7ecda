import { describe, expect, test } from '@jest/globals';
import { Registry } from 'prom-client';
import { GatewayMetrics } from './metrics.ts';

/** The gateway's metrics on a registry of their own, with no queued requests. */
function gatewayMetrics(): { registry: Registry; metrics: GatewayMetrics } {
  const registry = new Registry();
  return { registry, metrics: new GatewayMetrics(registry, () => []) };
}

async function seriesOf(registry: Registry, revision: string): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((line) => line.includes(`revision="${revision}"`));
}

describe('GatewayMetrics.forgetRevision', () => {
  test("removes every series of a deleted revision and keeps the others'", async () => {
    const { registry, metrics } = gatewayMetrics();
    metrics.request('ns/gone-00001', 'ns', 'gone-00001', 200, 0.01);
    metrics.request('ns/gone-00001', 'ns', 'gone-00001', 503, 0.002);
    metrics.coldStart('ns', 'gone-00001', 0.2);
    metrics.request('ns/kept-00001', 'ns', 'kept-00001', 200, 0.01);
    expect((await seriesOf(registry, 'gone-00001')).some((l) => l.includes('code="503"'))).toBe(true);

    metrics.forgetRevision('ns', 'gone-00001');
    expect(await seriesOf(registry, 'gone-00001')).toEqual([]);
    const kept = await seriesOf(registry, 'kept-00001');
    expect(kept).toContain('ebb_gateway_requests_total{namespace="ns",revision="kept-00001",code="200"} 1');
  });

  test('forgetting a revision that never had a request is harmless', async () => {
    const { registry, metrics } = gatewayMetrics();
    metrics.forgetRevision('ns', 'never-00001');
    metrics.request('ns/never-00001', 'ns', 'never-00001', 200, 0.01);
    expect(await seriesOf(registry, 'never-00001')).toContain(
      'ebb_gateway_requests_total{namespace="ns",revision="never-00001",code="200"} 1',
    );
  });
});

describe('GatewayMetrics exposition', () => {
  test('requests by code and a cumulative latency histogram per revision, as Prometheus text', async () => {
    const { registry, metrics } = gatewayMetrics();
    metrics.request('ns/r-00001', 'ns', 'r-00001', 200, 0.0004);
    metrics.request('ns/r-00001', 'ns', 'r-00001', 200, 0.003);
    metrics.request('ns/r-00001', 'ns', 'r-00001', 504, 75);
    metrics.request('ns/r-00001', 'ns', 'r-00001', 200, 0.001);
    const lines = (await registry.metrics()).split('\n');
    const at = (prefix: string): string[] => lines.filter((l) => l.startsWith(prefix));

    expect(at('ebb_gateway_requests_total')).toEqual([
      'ebb_gateway_requests_total{namespace="ns",revision="r-00001",code="200"} 3',
      'ebb_gateway_requests_total{namespace="ns",revision="r-00001",code="504"} 1',
    ]);
    expect(lines).toContain('# TYPE ebb_gateway_requests_total counter');
    expect(lines).toContain('# TYPE ebb_gateway_request_duration_seconds histogram');
    const bucket = (le: string): string | undefined =>
      at(
        `ebb_gateway_request_duration_seconds_bucket{namespace="ns",revision="r-00001",le="${le}"}`,
      )[0]?.split(' ')[1];
    // A bound takes the values equal to it (le), as Prometheus histograms do.
    expect(bucket('0.001')).toBe('2');
    expect(bucket('0.0025')).toBe('2');
    expect(bucket('0.005')).toBe('3');
    expect(bucket('60')).toBe('3');
    expect(bucket('+Inf')).toBe('4');
    expect(at('ebb_gateway_request_duration_seconds_bucket').length).toBe(16);
    expect(at('ebb_gateway_request_duration_seconds_count')).toEqual([
      'ebb_gateway_request_duration_seconds_count{namespace="ns",revision="r-00001"} 4',
    ]);
    const sum = Number(at('ebb_gateway_request_duration_seconds_sum')[0]?.split(' ')[1]);
    expect(sum).toBeCloseTo(75.0044, 6);
  });

  test('a revision with no requests has no series', async () => {
    const { registry } = gatewayMetrics();
    const text = await registry.metrics();
    expect(text).toContain('# HELP ebb_gateway_requests_total');
    expect(text.split('\n').filter((l) => l.startsWith('ebb_gateway_request'))).toEqual([]);
  });
});

describe('GatewayMetrics scrape-time series', () => {
  test('give exactly the labels they declare (a histogram adds le to its buckets)', async () => {
    const { registry, metrics } = gatewayMetrics();
    metrics.request('ns/a-00001', 'ns', 'a-00001', 200, 0.003);
    metrics.request('ns/b-00001', 'ns', 'b-00001', 504, 2);
    for (const name of ['ebb_gateway_requests_total', 'ebb_gateway_request_duration_seconds']) {
      const metric = registry.getSingleMetric(name) as unknown as {
        labelNames: readonly string[];
        get: () => Promise<{ values: { metricName?: string; labels: Record<string, string> }[] }>;
      };
      const { values } = await metric.get();
      expect(values.length).toBeGreaterThan(0);
      for (const v of values) {
        const declared =
          v.metricName?.endsWith('_bucket') === true ? [...metric.labelNames, 'le'] : metric.labelNames;
        expect([name, Object.keys(v.labels).sort()]).toEqual([name, [...declared].sort()]);
      }
    }
  });
});
