// Table tests of resolving a revision's scaling from annotations, containerConcurrency and
// config-autoscaler: targets, windows, burst capacity, bounds, and fallbacks for bad values.
import { describe, expect, it } from '@jest/globals';
import { defaultAutoscalerConfig, type AutoscalerConfig } from '../apis/config/autoscaler.ts';
import { resolveScaling, type RevisionScaling, type ScalingSource } from './target.ts';

const P = 'autoscaling.knative.dev/';

function source(
  annotations: Record<string, string>,
  containerConcurrency = 0,
  reachability: ScalingSource['spec']['reachability'] = 'Reachable',
): ScalingSource {
  return { metadata: { annotations }, spec: { containerConcurrency, reachability } };
}

/** Picks the fields a case talks about, so each row states only what it changes. */
function view(r: RevisionScaling): Record<string, unknown> {
  return {
    class: r.class,
    metric: r.metric,
    algorithm: r.metrics.algorithm,
    stableWindowMs: r.metrics.stableWindowMs,
    panicWindowMs: r.metrics.panicWindowMs,
    targetValue: r.decider.targetValue,
    totalValue: r.decider.totalValue,
    targetBurstCapacity: r.decider.targetBurstCapacity,
    panicThreshold: r.decider.panicThreshold,
    scaleDownDelayMs: r.decider.scaleDownDelayMs,
    activationScale: r.decider.activationScale,
    reachable: r.decider.reachable,
    minScale: r.minScale,
    maxScale: r.maxScale,
    initialScale: r.initialScale,
    retentionMs: r.scaleToZeroPodRetentionMs,
  };
}

const DEFAULTS = view(resolveScaling(source({}), defaultAutoscalerConfig()));

describe('resolveScaling', () => {
  it('uses config-autoscaler for a revision without annotations', () => {
    const r = resolveScaling(source({}), defaultAutoscalerConfig());
    expect(view(r)).toEqual({
      class: 'kpa.autoscaling.knative.dev',
      metric: 'concurrency',
      algorithm: 'linear',
      stableWindowMs: 60_000,
      panicWindowMs: 6_000,
      targetValue: 70,
      totalValue: 100,
      targetBurstCapacity: 211,
      panicThreshold: 2,
      scaleDownDelayMs: 0,
      activationScale: 0,
      reachable: true,
      minScale: 0,
      maxScale: 0,
      initialScale: 1,
      retentionMs: 0,
    });
    expect(r.decider).toMatchObject({ maxScaleUpRate: 1000, maxScaleDownRate: 2, stableWindowMs: 60_000 });
    expect(r.activatorCapacity).toBe(100);
  });

  const cases: [string, ScalingSource, Partial<AutoscalerConfig>, Record<string, unknown>][] = [
    ['containerConcurrency is the total', source({}, 10), {}, { totalValue: 10, targetValue: 7 }],
    [
      'target annotation, capped by containerConcurrency',
      source({ [`${P}target`]: '50' }, 10),
      {},
      { totalValue: 10, targetValue: 7 },
    ],
    [
      'target annotation below containerConcurrency',
      source({ [`${P}target`]: '5' }, 10),
      {},
      { totalValue: 5, targetValue: 3.5 },
    ],
    [
      'target annotation with containerConcurrency 0',
      source({ [`${P}target`]: '50' }),
      {},
      { totalValue: 50, targetValue: 35 },
    ],
    [
      'rps: the rps default at 70%, whatever containerConcurrency',
      source({ [`${P}metric`]: 'rps' }, 10),
      {},
      { metric: 'rps', totalValue: 200, targetValue: 140 },
    ],
    [
      'rps with a target annotation above containerConcurrency',
      source({ [`${P}metric`]: 'rps', [`${P}target`]: '30' }, 10),
      {},
      { metric: 'rps', totalValue: 30, targetValue: 21 },
    ],
    [
      'target utilization annotation',
      source({ [`${P}target-utilization-percentage`]: '50' }),
      {},
      { totalValue: 100, targetValue: 50 },
    ],
    [
      'target utilization, camelCase alias',
      source({ [`${P}targetUtilizationPercentage`]: '25' }),
      {},
      { targetValue: 25 },
    ],
    [
      'target value never below 0.01',
      source({ [`${P}target`]: '0.01', [`${P}target-utilization-percentage`]: '50' }),
      {},
      { totalValue: 0.01, targetValue: 0.01 },
    ],
    [
      'container-concurrency-target-percentage from the ConfigMap',
      source({}),
      { containerConcurrencyTargetFraction: 0.5, containerConcurrencyTargetDefault: 40 },
      { totalValue: 40, targetValue: 20 },
    ],
    [
      'window and panic window percentage',
      source({ [`${P}window`]: '30s', [`${P}panic-window-percentage`]: '20' }),
      {},
      { stableWindowMs: 30_000, panicWindowMs: 6_000 },
    ],
    [
      'panic window rounds to whole seconds',
      source({ [`${P}window`]: '10s', [`${P}panic-window-percentage`]: '15' }),
      {},
      { stableWindowMs: 10_000, panicWindowMs: 2_000 },
    ],
    [
      'panic window is at least one second',
      source({ [`${P}window`]: '6s', [`${P}panic-window-percentage`]: '1' }),
      {},
      { stableWindowMs: 6_000, panicWindowMs: 1_000 },
    ],
    ['panic threshold', source({ [`${P}panic-threshold-percentage`]: '150' }), {}, { panicThreshold: 1.5 }],
    [
      'unlimited burst capacity',
      source({ [`${P}target-burst-capacity`]: '-1' }),
      {},
      { targetBurstCapacity: -1 },
    ],
    ['no burst capacity', source({ [`${P}target-burst-capacity`]: '0' }), {}, { targetBurstCapacity: 0 }],
    [
      'scale-down delay and pod retention',
      source({ [`${P}scale-down-delay`]: '2m', [`${P}scale-to-zero-pod-retention-period`]: '1m30s' }),
      {},
      { scaleDownDelayMs: 120_000, retentionMs: 90_000 },
    ],
    [
      'bounds, initial and activation scale',
      source({
        [`${P}min-scale`]: '1',
        [`${P}max-scale`]: '8',
        [`${P}initial-scale`]: '3',
        [`${P}activation-scale`]: '2',
      }),
      {},
      { minScale: 1, maxScale: 8, initialScale: 3, activationScale: 2 },
    ],
    [
      'camelCase bound aliases',
      source({ [`${P}minScale`]: '2', [`${P}maxScale`]: '4', [`${P}initialScale`]: '2' }),
      {},
      { minScale: 2, maxScale: 4, initialScale: 2 },
    ],
    [
      'bounds from the ConfigMap',
      source({}),
      { minScale: 1, maxScale: 5, initialScale: 2 },
      { minScale: 1, maxScale: 5, initialScale: 2 },
    ],
    [
      'initial scale 0 not allowed by the cluster: the default',
      source({ [`${P}initial-scale`]: '0' }),
      {},
      { initialScale: 1 },
    ],
    [
      'initial scale 0 allowed by the cluster',
      source({ [`${P}initial-scale`]: '0' }),
      { allowZeroInitialScale: true },
      { initialScale: 0 },
    ],
    [
      'weighted-exponential aggregation and its alias',
      source({ [`${P}metric-aggregation-algorithm`]: 'weightedExponential' }),
      {},
      { algorithm: 'weighted-exponential' },
    ],
    ['unreachable revision', source({}, 0, 'Unreachable'), {}, { reachable: false }],
    ['reachability unknown counts as reachable', source({}, 0, ''), {}, { reachable: true }],
    [
      'class annotation',
      source({ [`${P}class`]: 'hpa.autoscaling.knative.dev' }),
      {},
      { class: 'hpa.autoscaling.knative.dev' },
    ],
    // Values the webhook would have refused fall back to the defaults.
    [
      'bad values fall back to the defaults',
      source({
        [`${P}metric`]: 'cpu',
        [`${P}target`]: 'lots',
        [`${P}target-utilization-percentage`]: '0',
        [`${P}window`]: '5s',
        [`${P}panic-window-percentage`]: '101',
        [`${P}panic-threshold-percentage`]: '100',
        [`${P}target-burst-capacity`]: '-2',
        [`${P}scale-down-delay`]: '1.5s',
        [`${P}scale-to-zero-pod-retention-period`]: '2h',
        [`${P}min-scale`]: '-1',
        [`${P}max-scale`]: '1.5',
        [`${P}initial-scale`]: 'two',
        [`${P}activation-scale`]: 'x',
        [`${P}metric-aggregation-algorithm`]: 'median',
      }),
      {},
      {},
    ],
    [
      'a window that is not whole seconds',
      source({ [`${P}window`]: '6500ms' }),
      {},
      { stableWindowMs: 60_000 },
    ],
  ];

  it.each(cases)('%s', (_name, src, config, want) => {
    const got = view(resolveScaling(src, { ...defaultAutoscalerConfig(), ...config }));
    expect(got).toEqual({ ...DEFAULTS, ...want });
  });
});
