// Everything the KPA needs to know about one revision, resolved from its PodAutoscaler's
// autoscaling.knative.dev/* annotations, containerConcurrency and config-autoscaler (Knative's
// MakeDecider, MakeMetric, ResolveMetricTarget and the PodAutoscaler accessors). The webhook has
// already validated the annotations; a value that still does not parse falls back to the default.
import { findAnnotation, METRIC_RPS, type AnnotationName } from '../apis/autoscaling/register.ts';
import type { PodAutoscalerSpec } from '../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import {
  MAX_WINDOW_MS,
  MIN_TARGET,
  MIN_WINDOW_MS,
  panicWindowMs,
  type AutoscalerConfig,
} from '../apis/config/autoscaler.ts';
import { isWholeSeconds, parseGoDuration } from '../apis/config/go-duration.ts';
import type { AggregationAlgorithm } from './buckets.ts';
import type { MetricSpec, ScalingMetric } from './collector.ts';
import type { DeciderSpec } from './decider.ts';

const MAX_INT32 = 2 ** 31 - 1;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** The parts of a PodAutoscaler this reads. */
export interface ScalingSource {
  metadata: { annotations?: Readonly<Record<string, string>> | undefined };
  spec: Pick<PodAutoscalerSpec, 'containerConcurrency' | 'reachability'>;
}

export interface RevisionScaling {
  /** pod-autoscaler class; ebb's KPA acts only on kpa.autoscaling.knative.dev. */
  class: string;
  metric: ScalingMetric;
  /** Windows for the collector. */
  metrics: MetricSpec;
  decider: DeciderSpec;
  /** From the annotation or the ConfigMap; min applies only while reachable (see scale.ts). */
  minScale: number;
  /** 0 means unbounded. */
  maxScale: number;
  initialScale: number;
  scaleToZeroPodRetentionMs: number;
  activatorCapacity: number;
}

type Annotations = Readonly<Record<string, string>> | undefined;

function annotationNumber(
  a: Annotations,
  name: AnnotationName,
  ok: (v: number) => boolean,
): number | undefined {
  const value = findAnnotation(a, name)?.value;
  if (value === undefined || !DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return ok(n) ? n : undefined;
}

function annotationInt(
  a: Annotations,
  name: AnnotationName,
  ok: (v: number) => boolean = () => true,
): number | undefined {
  const value = findAnnotation(a, name)?.value;
  if (value === undefined || !INTEGER.test(value)) return undefined;
  const n = Number(value);
  return n >= 0 && n <= MAX_INT32 && ok(n) ? n : undefined;
}

function annotationDuration(
  a: Annotations,
  name: AnnotationName,
  ok: (ms: number) => boolean,
): number | undefined {
  const value = findAnnotation(a, name)?.value;
  const ms = value === undefined ? undefined : parseGoDuration(value);
  return ms !== undefined && ok(ms) ? ms : undefined;
}

function scalingMetric(a: Annotations): ScalingMetric {
  return findAnnotation(a, 'metric')?.value === METRIC_RPS ? 'rps' : 'concurrency';
}

function aggregationAlgorithm(a: Annotations): AggregationAlgorithm {
  const value = findAnnotation(a, 'metricAggregationAlgorithm')?.value;
  return value === 'weighted-exponential' || value === 'weightedExponential'
    ? 'weighted-exponential'
    : 'linear';
}

/** Target (per pod, after utilization) and total (per pod, at most) load. */
export function resolveMetricTarget(
  source: ScalingSource,
  config: AutoscalerConfig,
): { targetValue: number; totalValue: number } {
  const a = source.metadata.annotations;
  const metric = scalingMetric(a);
  const cc = source.spec.containerConcurrency ?? 0;
  let total: number;
  let utilization: number;
  if (metric === 'rps') {
    total = config.rpsTargetDefault;
    utilization = config.targetUtilization;
  } else {
    total = cc === 0 ? config.containerConcurrencyTargetDefault : cc;
    utilization = config.containerConcurrencyTargetFraction;
  }
  const target = annotationNumber(a, 'target', (v) => v >= MIN_TARGET);
  if (target !== undefined) {
    // Never aim above what the container accepts.
    total = metric === 'concurrency' && cc !== 0 ? Math.min(target, cc) : target;
  }
  const percentage = annotationNumber(a, 'targetUtilizationPercentage', (v) => v >= 1 && v <= 100);
  if (percentage !== undefined) utilization = percentage / 100;
  return { targetValue: Math.max(MIN_TARGET, total * utilization), totalValue: total };
}

/** Initial scale: the annotation unless it is 0 and the cluster does not allow that. */
export function resolveInitialScale(annotations: Annotations, config: AutoscalerConfig): number {
  const v = annotationInt(annotations, 'initialScale');
  return v === undefined || (v === 0 && !config.allowZeroInitialScale) ? config.initialScale : v;
}

export function resolveScaling(source: ScalingSource, config: AutoscalerConfig): RevisionScaling {
  const a = source.metadata.annotations;
  const window = (ms: number) => ms >= MIN_WINDOW_MS && ms <= MAX_WINDOW_MS && isWholeSeconds(ms);
  const upToAnHour = (ms: number) => ms >= 0 && ms <= MAX_WINDOW_MS;
  const stableWindowMs = annotationDuration(a, 'window', window) ?? config.stableWindowMs;
  const panicPercentage =
    annotationNumber(a, 'panicWindowPercentage', (v) => v >= 1 && v <= 100) ?? config.panicWindowPercentage;
  const panicThresholdPercentage =
    annotationNumber(a, 'panicThresholdPercentage', (v) => v >= 110 && v <= 1000) ??
    config.panicThresholdPercentage;
  const targetBurstCapacity =
    annotationNumber(a, 'targetBurstCapacity', (v) => v >= 0 || v === -1) ?? config.targetBurstCapacity;
  const scaleDownDelayMs =
    annotationDuration(a, 'scaleDownDelay', (ms) => upToAnHour(ms) && isWholeSeconds(ms)) ??
    config.scaleDownDelayMs;
  const initialScale = resolveInitialScale(a, config);
  const { targetValue, totalValue } = resolveMetricTarget(source, config);
  return {
    class: findAnnotation(a, 'class')?.value ?? config.podAutoscalerClass,
    metric: scalingMetric(a),
    metrics: {
      stableWindowMs,
      panicWindowMs: panicWindowMs(stableWindowMs, panicPercentage),
      algorithm: aggregationAlgorithm(a),
    },
    decider: {
      targetValue,
      totalValue,
      targetBurstCapacity,
      panicThreshold: panicThresholdPercentage / 100,
      maxScaleUpRate: config.maxScaleUpRate,
      maxScaleDownRate: config.maxScaleDownRate,
      stableWindowMs,
      scaleDownDelayMs,
      activationScale: annotationInt(a, 'activationScale') ?? 0,
      reachable: source.spec.reachability !== 'Unreachable',
      initialScale,
    },
    minScale: annotationInt(a, 'minScale') ?? config.minScale,
    maxScale: annotationInt(a, 'maxScale') ?? config.maxScale,
    initialScale,
    scaleToZeroPodRetentionMs:
      annotationDuration(a, 'scaleToZeroPodRetentionPeriod', upToAnHour) ??
      config.scaleToZeroPodRetentionPeriodMs,
    activatorCapacity: config.activatorCapacity,
  };
}
