// config-autoscaler: the cluster-wide knobs of the KPA, with Knative's defaults and checks.
import { generic, type FieldError } from '../field-error.ts';
import { ConfigReader, dataPath, type ConfigData } from './configmap-data.ts';
import { formatGoDuration, isWholeSeconds } from './go-duration.ts';

export const KPA_CLASS = 'kpa.autoscaling.knative.dev';
export const HPA_CLASS = 'hpa.autoscaling.knative.dev';

export interface AutoscalerConfig {
  podAutoscalerClass: string;
  enableScaleToZero: boolean;
  allowZeroInitialScale: boolean;
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  /** As a fraction in (0, 1]; the ConfigMap takes a percentage. */
  containerConcurrencyTargetFraction: number;
  containerConcurrencyTargetDefault: number;
  rpsTargetDefault: number;
  /** Fixed at 0.7 for rps, as in Knative; the annotation can change it per revision. */
  targetUtilization: number;
  targetBurstCapacity: number;
  panicWindowPercentage: number;
  panicThresholdPercentage: number;
  activatorCapacity: number;
  initialScale: number;
  minScale: number;
  maxScale: number;
  maxScaleLimit: number;
  stableWindowMs: number;
  scaleDownDelayMs: number;
  scaleToZeroGracePeriodMs: number;
  scaleToZeroPodRetentionPeriodMs: number;
}

export const MIN_TARGET = 0.01;
export const MIN_WINDOW_MS = 6_000;
export const MAX_WINDOW_MS = 3_600_000;

export function defaultAutoscalerConfig(): AutoscalerConfig {
  return parseAutoscalerConfig({}).config;
}

export function parseAutoscalerConfig(data: ConfigData | ConfigReader): {
  config: AutoscalerConfig;
  errors: FieldError[];
} {
  const r = ConfigReader.of(data);
  const config: AutoscalerConfig = {
    podAutoscalerClass: r.string('pod-autoscaler-class', KPA_CLASS),
    enableScaleToZero: r.bool('enable-scale-to-zero', true),
    allowZeroInitialScale: r.bool('allow-zero-initial-scale', false),
    maxScaleUpRate: r.float('max-scale-up-rate', 1000),
    maxScaleDownRate: r.float('max-scale-down-rate', 2),
    containerConcurrencyTargetFraction: r.float('container-concurrency-target-percentage', 70),
    containerConcurrencyTargetDefault: r.float('container-concurrency-target-default', 100),
    rpsTargetDefault: r.float('requests-per-second-target-default', 200),
    targetUtilization: 0.7,
    targetBurstCapacity: r.float('target-burst-capacity', 211),
    panicWindowPercentage: r.float('panic-window-percentage', 10),
    panicThresholdPercentage: r.float('panic-threshold-percentage', 200),
    activatorCapacity: r.float('activator-capacity', 100),
    initialScale: r.int('initial-scale', 1, 32),
    minScale: r.int('min-scale', 0, 32),
    maxScale: r.int('max-scale', 0, 32),
    maxScaleLimit: r.int('max-scale-limit', 0, 32),
    stableWindowMs: r.duration('stable-window', 60_000),
    scaleDownDelayMs: r.duration('scale-down-delay', 0),
    scaleToZeroGracePeriodMs: r.duration('scale-to-zero-grace-period', 30_000),
    scaleToZeroPodRetentionPeriodMs: r.duration('scale-to-zero-pod-retention-period', 0),
  };
  // Values above 1 are percentages; at most 1 they are the legacy fraction form.
  if (config.containerConcurrencyTargetFraction > 1) config.containerConcurrencyTargetFraction /= 100;
  // A key that did not parse keeps its default, so the remaining checks still say something true.
  return { config, errors: [...r.errors, ...validateAutoscalerConfig(config)] };
}

function validateAutoscalerConfig(c: AutoscalerConfig): FieldError[] {
  const errors: FieldError[] = [];
  const check = (bad: boolean, key: string, message: string): void => {
    if (bad) errors.push(generic(message, dataPath(key)));
  };
  const d = formatGoDuration;
  check(
    c.scaleToZeroGracePeriodMs <= 0,
    'scale-to-zero-grace-period',
    `scale-to-zero-grace-period must be positive, was: ${d(c.scaleToZeroGracePeriodMs)}`,
  );
  check(
    c.scaleDownDelayMs < 0,
    'scale-down-delay',
    `scale-down-delay cannot be negative, was: ${d(c.scaleDownDelayMs)}`,
  );
  check(
    c.scaleDownDelayMs >= 0 && !isWholeSeconds(c.scaleDownDelayMs),
    'scale-down-delay',
    `scale-down-delay = ${d(c.scaleDownDelayMs)}, must be specified with at most second precision`,
  );
  check(
    c.scaleToZeroPodRetentionPeriodMs < 0,
    'scale-to-zero-pod-retention-period',
    `scale-to-zero-pod-retention-period cannot be negative, was: ${d(c.scaleToZeroPodRetentionPeriodMs)}`,
  );
  check(
    c.targetBurstCapacity < 0 && c.targetBurstCapacity !== -1,
    'target-burst-capacity',
    `target-burst-capacity must be either non-negative or -1 (for unlimited), was: ${c.targetBurstCapacity.toFixed(6)}`,
  );
  const fraction = c.containerConcurrencyTargetFraction;
  if (fraction <= 0 || fraction > 1) {
    check(
      true,
      'container-concurrency-target-percentage',
      `container-concurrency-target-percentage = ${fraction.toFixed(6)} is outside of valid range of (0, 100]`,
    );
  } else {
    const target = fraction * c.containerConcurrencyTargetDefault;
    check(
      target < MIN_TARGET,
      'container-concurrency-target-default',
      `container-concurrency-target-percentage and container-concurrency-target-default yield target concurrency of ${target}, can't be less than ${MIN_TARGET}`,
    );
  }
  check(
    c.rpsTargetDefault < MIN_TARGET,
    'requests-per-second-target-default',
    `requests-per-second-target-default must be at least ${MIN_TARGET}, was: ${c.rpsTargetDefault}`,
  );
  check(
    c.activatorCapacity < 1,
    'activator-capacity',
    `activator-capacity = ${c.activatorCapacity}, must be at least 1`,
  );
  check(
    c.maxScaleUpRate <= 1,
    'max-scale-up-rate',
    `max-scale-up-rate = ${c.maxScaleUpRate}, must be greater than 1.0`,
  );
  check(
    c.maxScaleDownRate <= 1,
    'max-scale-down-rate',
    `max-scale-down-rate = ${c.maxScaleDownRate}, must be greater than 1.0`,
  );
  check(
    c.stableWindowMs < MIN_WINDOW_MS || c.stableWindowMs > MAX_WINDOW_MS,
    'stable-window',
    `stable-window = ${d(c.stableWindowMs)}, must be in [${d(MIN_WINDOW_MS)}; ${d(MAX_WINDOW_MS)}] range`,
  );
  check(
    !isWholeSeconds(c.stableWindowMs),
    'stable-window',
    `stable-window = ${d(c.stableWindowMs)}, must be specified with at most second precision`,
  );
  check(
    c.panicWindowPercentage < 1 || c.panicWindowPercentage > 100,
    'panic-window-percentage',
    `panic-window-percentage = ${c.panicWindowPercentage}, must be in [1, 100] interval`,
  );
  check(
    c.initialScale < 0 || (c.initialScale === 0 && !c.allowZeroInitialScale),
    'initial-scale',
    `initial-scale = ${c.initialScale}, must be at least 0 (or at least 1 when allow-zero-initial-scale is false)`,
  );
  const minMax = c.maxScaleLimit > 0 ? 1 : 0;
  check(
    c.maxScale < minMax || (c.maxScaleLimit > 0 && c.maxScale > c.maxScaleLimit),
    'max-scale',
    `max-scale = ${c.maxScale}, must be in [${minMax}, max-scale-limit(${c.maxScaleLimit})] range`,
  );
  check(c.maxScaleLimit < 0, 'max-scale-limit', `max-scale-limit = ${c.maxScaleLimit}, must be at least 0`);
  check(c.minScale < 0, 'min-scale', `min-scale = ${c.minScale}, must be at least 0`);
  check(
    c.maxScale > 0 && c.minScale > c.maxScale,
    'min-scale',
    `min-scale (${c.minScale}) must be less than max-scale (${c.maxScale})`,
  );
  return errors;
}

/** Panic window in whole seconds (at least one): stable window × percentage / 100. */
export function panicWindowMs(stableWindowMs: number, panicWindowPercentage: number): number {
  const ms = Math.round((stableWindowMs * panicWindowPercentage) / 100 / 1000) * 1000;
  return Math.max(1000, ms);
}
