// autoscaling.knative.dev annotation keys, each with the aliases Knative accepts (first wins).
export const AUTOSCALING_PREFIX = 'autoscaling.knative.dev';
const key = (name: string) => `${AUTOSCALING_PREFIX}/${name}`;

export const ANNOTATION = {
  class: [key('class')],
  metric: [key('metric')],
  target: [key('target')],
  targetUtilizationPercentage: [key('target-utilization-percentage'), key('targetUtilizationPercentage')],
  minScale: [key('min-scale'), key('minScale')],
  maxScale: [key('max-scale'), key('maxScale')],
  initialScale: [key('initial-scale'), key('initialScale')],
  activationScale: [key('activation-scale')],
  window: [key('window')],
  panicWindowPercentage: [key('panic-window-percentage'), key('panicWindowPercentage')],
  panicThresholdPercentage: [key('panic-threshold-percentage'), key('panicThresholdPercentage')],
  targetBurstCapacity: [key('target-burst-capacity'), key('targetBurstCapacity')],
  scaleDownDelay: [key('scale-down-delay'), key('scaleDownDelay')],
  scaleToZeroPodRetentionPeriod: [
    key('scale-to-zero-pod-retention-period'),
    key('scaleToZeroPodRetentionPeriod'),
  ],
  metricAggregationAlgorithm: [key('metric-aggregation-algorithm'), key('metricAggregationAlgorithm')],
} as const;

export type AnnotationName = keyof typeof ANNOTATION;

export const METRIC_CONCURRENCY = 'concurrency';
export const METRIC_RPS = 'rps';
export const METRIC_CPU = 'cpu';
export const METRIC_MEMORY = 'memory';

/** The first of an annotation's keys that is present, with its value. */
export function findAnnotation(
  annotations: Readonly<Record<string, string>> | undefined,
  name: AnnotationName,
): { key: string; value: string } | undefined {
  if (annotations === undefined) return undefined;
  for (const k of ANNOTATION[name]) {
    const value = annotations[k];
    if (value !== undefined) return { key: k, value };
  }
  return undefined;
}
