// Tests for the cluster-cost arithmetic: API writes by resource from the API server's metrics,
// busy CPU from /proc/stat, and the per-object difference of two snapshots.
import { describe, expect, it } from '@jest/globals';
import { apiWrites, busySeconds, costPerObject, type CostSnapshot } from './cluster-cost.ts';

const METRICS = `# HELP apiserver_request_total Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="serving.knative.dev",resource="services",scope="resource",subresource="",verb="POST",version="v1"} 10
apiserver_request_total{code="409",component="apiserver",dry_run="",group="serving.knative.dev",resource="services",scope="resource",subresource="",verb="POST",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="serving.knative.dev",resource="services",scope="resource",subresource="status",verb="PATCH",version="v1"} 30
apiserver_request_total{code="200",component="apiserver",dry_run="",group="serving.knative.dev",resource="services",scope="resource",subresource="",verb="GET",version="v1"} 99
apiserver_request_total{code="0",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="WATCH",version="v1"} 5
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 7
apiserver_request_duration_seconds_count{verb="POST",resource="services"} 1000
`;

describe('apiWrites', () => {
  it('counts POST, PUT, PATCH and DELETE by verb, resource, group and subresource, whatever the code', () => {
    expect(Object.fromEntries(apiWrites(METRICS))).toEqual({
      'POST services.serving.knative.dev': 12,
      'PATCH services.serving.knative.dev/status': 30,
      'POST events': 7,
    });
  });
});

describe('busySeconds', () => {
  it('adds user, nice, system, irq and softirq ticks, not idle or iowait', () => {
    expect(busySeconds('cpu  100 20 300 5000 70 8 9 0 0 0\ncpu0 1 2 3 4 5 6 7 0 0 0\n')).toBeCloseTo(4.37);
  });
});

describe('costPerObject', () => {
  const snapshot = (
    writes: Record<string, number>,
    machine: number | undefined,
    processes: Record<string, number>,
  ): CostSnapshot => ({
    writes: new Map(Object.entries(writes)),
    machineCpuSeconds: machine,
    processCpuSeconds: new Map(Object.entries(processes)),
  });

  it('divides what changed by the number of objects', () => {
    const before = snapshot(
      {
        'POST services.serving.knative.dev': 5,
        'PATCH services.serving.knative.dev/status': 10,
        'POST services': 3,
      },
      100,
      { 'kube-apiserver': 50 },
    );
    const after = snapshot(
      {
        'POST services.serving.knative.dev': 15,
        'PATCH services.serving.knative.dev/status': 30,
        'PUT services.serving.knative.dev/status': 10,
        'POST services': 3,
        'POST events': 20,
      },
      104,
      { 'kube-apiserver': 52, 'ebb controller': 1 },
    );
    expect(costPerObject(before, after, 10)).toEqual({
      writes: 6,
      writesBy: {
        'POST services.serving.knative.dev': 1,
        'PATCH services.serving.knative.dev/status': 2,
        'PUT services.serving.knative.dev/status': 1,
        'POST events': 2,
      },
      statusWrites: { services: 3 },
      machineCpuMs: 400,
      processCpuMs: { 'kube-apiserver': 200, 'ebb controller': 100 },
    });
  });

  it('leaves the machine figure out when the API server is not on this machine', () => {
    const cost = costPerObject(snapshot({}, undefined, {}), snapshot({ 'POST pods': 4 }, undefined, {}), 2);
    expect(cost.machineCpuMs).toBeUndefined();
    expect(cost.writes).toBe(2);
  });
});
