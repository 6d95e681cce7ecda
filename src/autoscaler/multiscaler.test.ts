// Tests of the multiscaler's timing rules: silence counts as idle only after the grace period, a
// stat with requests for a revision at zero decides at once (the poke), and a tick reports only
// the revisions whose decision moved.
import { describe, expect, it } from '@jest/globals';
import { defaultAutoscalerConfig } from '../apis/config/autoscaler.ts';
import { MultiScaler, NO_DATA_GRACE_MS } from './multiscaler.ts';
import { resolveScaling } from './target.ts';

const KEY = 'ns/hello-00001';
const T0 = 1_700_000_000_000;
const scaling = resolveScaling(
  {
    metadata: { annotations: { 'autoscaling.knative.dev/window': '6s' } },
    spec: { containerConcurrency: 0 },
  },
  defaultAutoscalerConfig(),
);

function report(concurrency: number, rps = concurrency) {
  return { pod: 'gw-1', stats: [{ namespace: 'ns', revision: 'hello-00001', concurrency, rps }] };
}

describe('MultiScaler', () => {
  it('starts unknown, and reads silence as idle only after the grace period', () => {
    const ms = new MultiScaler(() => 0);
    expect(ms.ensure(KEY, scaling, T0).desiredScale).toBe(-1);
    expect(ms.tick(T0 + NO_DATA_GRACE_MS - 1)).toEqual([]);
    expect(ms.status(KEY)?.desiredScale).toBe(-1);
    expect(ms.tick(T0 + NO_DATA_GRACE_MS)).toEqual([KEY]);
    expect(ms.status(KEY)?.desiredScale).toBe(0);
    // Nothing moved since: no reconcile.
    expect(ms.tick(T0 + NO_DATA_GRACE_MS + 2_000)).toEqual([]);
  });

  it('pokes a revision at zero awake on the first stat with requests, without waiting for a tick', () => {
    const ms = new MultiScaler(() => 0);
    ms.ensure(KEY, scaling, T0);
    ms.tick(T0 + NO_DATA_GRACE_MS);
    expect(ms.record(report(1), T0 + NO_DATA_GRACE_MS + 10)).toEqual([KEY]);
    expect(ms.status(KEY)?.desiredScale).toBe(1);
    // Already above zero: later stats wait for the tick.
    expect(ms.record(report(1), T0 + NO_DATA_GRACE_MS + 20)).toEqual([]);
  });

  it('does not poke on a stat without requests, and ignores revisions it does not scale', () => {
    const ms = new MultiScaler(() => 0);
    ms.ensure(KEY, scaling, T0);
    ms.tick(T0 + NO_DATA_GRACE_MS);
    expect(ms.record(report(0), T0 + NO_DATA_GRACE_MS + 10)).toEqual([]);
    const other = { pod: 'gw-1', stats: [{ namespace: 'ns', revision: 'other', concurrency: 5, rps: 5 }] };
    expect(ms.record(other, T0 + NO_DATA_GRACE_MS + 10)).toEqual([]);
    expect(ms.has('ns/other')).toBe(false);
  });

  it('scales with the load the gateways report and forgets deleted revisions', () => {
    let ready = 1;
    const ms = new MultiScaler(() => ready);
    ms.ensure(KEY, scaling, T0);
    // 140 requests in flight on average against a target of 70 per pod: 2 pods.
    // The first stat for a revision not decided yet pokes it at once.
    expect(ms.record(report(140), T0)).toEqual([KEY]);
    for (let s = 1; s < 6; s++) ms.record(report(140), T0 + s * 1000);
    ms.tick(T0 + 6_000);
    expect(ms.status(KEY)?.desiredScale).toBe(2);
    ready = 2;
    ms.delete(KEY);
    expect(ms.status(KEY)).toBeUndefined();
    expect(ms.tick(T0 + 8_000)).toEqual([]);
  });
});
