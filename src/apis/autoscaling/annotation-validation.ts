// Validation of a Revision template's autoscaling.knative.dev/* annotations: ranges, units and how
// they combine with config-autoscaler. Paths are the annotation keys; callers add the prefix.
import type { AutoscalerConfig } from '../config/autoscaler.ts';
import { HPA_CLASS, KPA_CLASS } from '../config/autoscaler.ts';
import { isWholeSeconds, parseGoDuration } from '../config/go-duration.ts';
import { parseGoFloat } from '../config/go-float.ts';
import { generic, invalidValue, outOfBounds, type FieldError } from '../field-error.ts';
import { ANNOTATION, findAnnotation, METRIC_CONCURRENCY, METRIC_RPS } from './register.ts';

const MAX_INT32 = 2147483647;

type Annotations = Readonly<Record<string, string>>;

function parseInt32(value: string, key: string, errors: FieldError[]): number {
  if (!/^[+-]?\d+$/.test(value)) {
    errors.push(invalidValue(value, key));
    return 0;
  }
  const n = Number(value);
  if (n < 0 || n > MAX_INT32) {
    errors.push(outOfBounds(value, 0, MAX_INT32, key));
    return 0;
  }
  return n;
}

function validateScaleBounds(a: Annotations, config: AutoscalerConfig): FieldError[] {
  const errors: FieldError[] = [];
  const minFound = findAnnotation(a, 'minScale');
  const maxFound = findAnnotation(a, 'maxScale');
  const min = minFound === undefined ? 0 : parseInt32(minFound.value, minFound.key, errors);
  const max = maxFound === undefined ? 0 : parseInt32(maxFound.value, maxFound.key, errors);
  if (max !== 0 && max < min) {
    errors.push(
      generic(`max-scale=${max} is less than min-scale=${min}`, [
        ANNOTATION.maxScale[0],
        ANNOTATION.minScale[0],
      ]),
    );
  }
  if (maxFound !== undefined && config.maxScaleLimit !== 0) {
    if (max > config.maxScaleLimit) errors.push(outOfBounds(max, 1, config.maxScaleLimit, maxFound.key));
    else if (max === 0) {
      errors.push(
        generic(`max-scale=0 (unlimited), must be less than ${config.maxScaleLimit}`, maxFound.key),
      );
    }
  }
  // activation-scale may be negative as far as parsing goes; the first failed rule is reported.
  const activation = findAnnotation(a, 'activationScale');
  if (activation !== undefined) {
    const { key, value } = activation;
    const n = Number(value);
    if (!/^[+-]?\d+$/.test(value) || n < -MAX_INT32 - 1 || n > MAX_INT32) {
      errors.push(invalidValue(value, key));
    } else if (min > n) {
      errors.push(generic(`min-scale=${min} is greater than activation-scale=${n}`, key));
    } else if (max !== 0 && max < n) {
      errors.push(generic(`max-scale=${max} is less than activation-scale=${n}`, key));
    } else if (n < 2) {
      errors.push(generic(`activation-scale=${n} must be greater than 1`, key));
    }
  }
  return errors;
}

function validateFloats(a: Annotations): FieldError[] {
  const errors: FieldError[] = [];
  const ranged = (
    name: 'panicWindowPercentage' | 'panicThresholdPercentage' | 'targetUtilizationPercentage',
    lo: number,
    hi: number,
  ) => {
    const found = findAnnotation(a, name);
    if (found === undefined) return;
    const v = parseGoFloat(found.value);
    if (v === undefined) errors.push(invalidValue(found.value, found.key));
    else if (v < lo || v > hi) errors.push(outOfBounds(found.value, lo, hi, found.key));
  };
  ranged('panicWindowPercentage', 1, 100);
  ranged('panicThresholdPercentage', 110, 1000);
  ranged('targetUtilizationPercentage', 1, 100);
  const target = findAnnotation(a, 'target');
  if (target !== undefined) {
    const v = parseGoFloat(target.value);
    if (v === undefined) errors.push(invalidValue(target.value, target.key));
    else if (v < 0.01) errors.push(generic(`target ${target.value} should be at least 0.01`, target.key));
  }
  const tbc = findAnnotation(a, 'targetBurstCapacity');
  if (tbc !== undefined) {
    const v = parseGoFloat(tbc.value);
    if (v === undefined || (v < 0 && v !== -1)) errors.push(invalidValue(tbc.value, tbc.key));
  }
  return errors;
}

function validateDurations(a: Annotations): FieldError[] {
  const errors: FieldError[] = [];
  const window = findAnnotation(a, 'window');
  if (window !== undefined) {
    const ms = parseGoDuration(window.value);
    if (ms === undefined) errors.push(invalidValue(window.value, window.key));
    else if (ms < 6_000 || ms > 3_600_000) errors.push(outOfBounds(window.value, '6s', '1h0m0s', window.key));
    else if (!isWholeSeconds(ms))
      errors.push(generic('must be specified with at most second precision', window.key));
  }
  for (const name of ['scaleToZeroPodRetentionPeriod', 'scaleDownDelay'] as const) {
    const found = findAnnotation(a, name);
    if (found === undefined) continue;
    const ms = parseGoDuration(found.value);
    if (ms === undefined) errors.push(invalidValue(found.value, found.key));
    else if (ms < 0 || ms > 3_600_000) errors.push(outOfBounds(found.value, '0s', '1h0m0s', found.key));
    else if (name === 'scaleDownDelay' && !isWholeSeconds(ms)) {
      errors.push(generic('must be specified with at most second precision', found.key));
    }
  }
  return errors;
}

function validateMetric(a: Annotations, config: AutoscalerConfig): FieldError[] {
  const errors: FieldError[] = [];
  const classFound = findAnnotation(a, 'class');
  const autoscalerClass = classFound?.value ?? config.podAutoscalerClass;
  const metric = findAnnotation(a, 'metric');
  if (metric !== undefined) {
    const ok =
      autoscalerClass === KPA_CLASS
        ? metric.value === METRIC_CONCURRENCY || metric.value === METRIC_RPS
        : autoscalerClass === HPA_CLASS
          ? metric.value !== ''
          : true;
    if (!ok) {
      errors.push(
        invalidValue(
          metric.value,
          metric.key,
          autoscalerClass === KPA_CLASS
            ? 'the KPA scales on "concurrency" or "rps"'
            : 'the HPA scales on a resource metric such as "cpu" or "memory"',
        ),
      );
    }
  }
  const algorithm = findAnnotation(a, 'metricAggregationAlgorithm');
  if (algorithm !== undefined && classFound?.value === KPA_CLASS && algorithm.value !== '') {
    if (!['linear', 'weighted-exponential', 'weightedExponential'].includes(algorithm.value)) {
      errors.push(invalidValue(algorithm.value, algorithm.key));
    }
  }
  return errors;
}

function validateInitialScale(a: Annotations, config: AutoscalerConfig): FieldError[] {
  const found = findAnnotation(a, 'initialScale');
  if (found === undefined) return [];
  if (!/^[+-]?\d+$/.test(found.value)) return [invalidValue(found.value, found.key)];
  const n = Number(found.value);
  if (n < 0) return [invalidValue(found.value, `${found.key} must be greater than 0`)];
  if (n === 0 && !config.allowZeroInitialScale) {
    return [
      invalidValue(
        found.value,
        `${found.key}=0 not allowed by cluster`,
        'set allow-zero-initial-scale: "true" in config-autoscaler to allow it',
      ),
    ];
  }
  return [];
}

/** Every autoscaling.knative.dev/* annotation on a Revision template. */
export function validateAutoscalingAnnotations(
  annotations: Annotations | undefined,
  config: AutoscalerConfig,
): FieldError[] {
  if (annotations === undefined) return [];
  const errors: FieldError[] = [];
  const classFound = findAnnotation(annotations, 'class');
  if (
    classFound !== undefined &&
    classFound.value.endsWith('.knative.dev') &&
    classFound.value !== KPA_CLASS &&
    classFound.value !== HPA_CLASS
  ) {
    errors.push(invalidValue(classFound.value, classFound.key, `use ${KPA_CLASS} or ${HPA_CLASS}`));
  }
  errors.push(...validateScaleBounds(annotations, config));
  errors.push(...validateFloats(annotations));
  errors.push(...validateDurations(annotations));
  errors.push(...validateMetric(annotations, config));
  errors.push(...validateInitialScale(annotations, config));
  return errors;
}
