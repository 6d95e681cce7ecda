// Table tests of config-autoscaler parsing against Knative's keys, defaults and messages.
import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../field-error.ts';
import {
  defaultAutoscalerConfig,
  panicWindowMs,
  parseAutoscalerConfig,
  type AutoscalerConfig,
} from './autoscaler.ts';

const problems = (errors: readonly FieldError[]): string[] =>
  errors.map((e) => `${e.paths.join(', ')}: ${e.message}`);

describe('config-autoscaler', () => {
  it('has Knative defaults for an empty ConfigMap', () => {
    const expected: AutoscalerConfig = {
      podAutoscalerClass: 'kpa.autoscaling.knative.dev',
      enableScaleToZero: true,
      allowZeroInitialScale: false,
      maxScaleUpRate: 1000,
      maxScaleDownRate: 2,
      containerConcurrencyTargetFraction: 0.7,
      containerConcurrencyTargetDefault: 100,
      rpsTargetDefault: 200,
      targetUtilization: 0.7,
      targetBurstCapacity: 211,
      panicWindowPercentage: 10,
      panicThresholdPercentage: 200,
      activatorCapacity: 100,
      initialScale: 1,
      minScale: 0,
      maxScale: 0,
      maxScaleLimit: 0,
      stableWindowMs: 60_000,
      scaleDownDelayMs: 0,
      scaleToZeroGracePeriodMs: 30_000,
      scaleToZeroPodRetentionPeriodMs: 0,
    };
    const parsed = parseAutoscalerConfig({});
    expect(parsed.errors).toEqual([]);
    expect(parsed.config).toEqual(expected);
    expect(defaultAutoscalerConfig()).toEqual(expected);
  });

  const valid: [string, Record<string, string>, Partial<AutoscalerConfig>][] = [
    [
      'a percentage above 1 becomes a fraction',
      { 'container-concurrency-target-percentage': '55' },
      { containerConcurrencyTargetFraction: 0.55 },
    ],
    [
      'a value of at most 1 is the legacy fraction form',
      { 'container-concurrency-target-percentage': '0.5' },
      { containerConcurrencyTargetFraction: 0.5 },
    ],
    [
      'every key set, with Go float and bool spellings',
      {
        'pod-autoscaler-class': 'hpa.autoscaling.knative.dev',
        'enable-scale-to-zero': 'F',
        'allow-zero-initial-scale': 'True',
        'initial-scale': '0',
        'max-scale-up-rate': '1e3',
        'max-scale-down-rate': '+4.5',
        'target-burst-capacity': '-1',
        'panic-window-percentage': '100',
        'max-scale': '10',
        'max-scale-limit': '10',
        'stable-window': '1h',
        'scale-down-delay': '1m30s',
        'scale-to-zero-pod-retention-period': '0',
      },
      {
        podAutoscalerClass: 'hpa.autoscaling.knative.dev',
        enableScaleToZero: false,
        allowZeroInitialScale: true,
        initialScale: 0,
        maxScaleUpRate: 1000,
        maxScaleDownRate: 4.5,
        targetBurstCapacity: -1,
        panicWindowPercentage: 100,
        maxScale: 10,
        maxScaleLimit: 10,
        stableWindowMs: 3_600_000,
        scaleDownDelayMs: 90_000,
        scaleToZeroPodRetentionPeriodMs: 0,
      },
    ],
  ];

  it.each(valid)('accepts %s', (_name, data, expected) => {
    const parsed = parseAutoscalerConfig(data);
    expect(parsed.errors).toEqual([]);
    expect(parsed.config).toMatchObject(expected);
  });

  const invalid: [string, Record<string, string>, string[]][] = [
    [
      'a bool that strconv.ParseBool rejects',
      { 'enable-scale-to-zero': 'yes' },
      ['data[enable-scale-to-zero]: strconv.ParseBool: parsing "yes": invalid syntax'],
    ],
    [
      'a float that does not parse',
      { 'max-scale-up-rate': 'not a float' },
      [
        'data[max-scale-up-rate]: failed to parse "max-scale-up-rate": strconv.ParseFloat: parsing "not a float": invalid syntax',
      ],
    ],
    [
      'an int32 that is fractional or out of range',
      { 'initial-scale': '1.5', 'max-scale': '3000000000' },
      [
        'data[initial-scale]: failed to parse "initial-scale": strconv.ParseInt: parsing "1.5": invalid syntax',
        'data[max-scale]: failed to parse "max-scale": strconv.ParseInt: parsing "3000000000": value out of range',
      ],
    ],
    [
      'a duration with a day unit',
      { 'stable-window': '1d' },
      ['data[stable-window]: failed to parse "stable-window": time: invalid duration "1d"'],
    ],
    [
      'a negative scale-down-delay',
      { 'scale-down-delay': '-1s' },
      ['data[scale-down-delay]: scale-down-delay cannot be negative, was: -1s'],
    ],
    [
      'a sub-second scale-down-delay',
      { 'scale-down-delay': '1500ms' },
      ['data[scale-down-delay]: scale-down-delay = 1.5s, must be specified with at most second precision'],
    ],
    [
      'a zero grace period and a negative pod retention period',
      { 'scale-to-zero-grace-period': '0s', 'scale-to-zero-pod-retention-period': '-1m' },
      [
        'data[scale-to-zero-grace-period]: scale-to-zero-grace-period must be positive, was: 0s',
        'data[scale-to-zero-pod-retention-period]: scale-to-zero-pod-retention-period cannot be negative, was: -1m0s',
      ],
    ],
    [
      'a negative target-burst-capacity other than -1',
      { 'target-burst-capacity': '-11' },
      [
        'data[target-burst-capacity]: target-burst-capacity must be either non-negative or -1 (for unlimited), was: -11.000000',
      ],
    ],
    [
      'a target percentage above 100',
      { 'container-concurrency-target-percentage': '142.4' },
      [
        'data[container-concurrency-target-percentage]: container-concurrency-target-percentage = 1.424000 is outside of valid range of (0, 100]',
      ],
    ],
    [
      'a target concurrency below 0.01',
      { 'container-concurrency-target-percentage': '50', 'container-concurrency-target-default': '0.01' },
      [
        "data[container-concurrency-target-default]: container-concurrency-target-percentage and container-concurrency-target-default yield target concurrency of 0.005, can't be less than 0.01",
      ],
    ],
    [
      'an rps target below 0.01 and an activator capacity below 1',
      { 'requests-per-second-target-default': '0.001', 'activator-capacity': '0.5' },
      [
        'data[requests-per-second-target-default]: requests-per-second-target-default must be at least 0.01, was: 0.001',
        'data[activator-capacity]: activator-capacity = 0.5, must be at least 1',
      ],
    ],
    [
      'scale rates of 1',
      { 'max-scale-up-rate': '1', 'max-scale-down-rate': '1' },
      [
        'data[max-scale-up-rate]: max-scale-up-rate = 1, must be greater than 1.0',
        'data[max-scale-down-rate]: max-scale-down-rate = 1, must be greater than 1.0',
      ],
    ],
    [
      'a stable window below 6s',
      { 'stable-window': '1s' },
      ['data[stable-window]: stable-window = 1s, must be in [6s; 1h0m0s] range'],
    ],
    [
      'a stable window with millisecond precision',
      { 'stable-window': '61984ms' },
      ['data[stable-window]: stable-window = 1m1.984s, must be specified with at most second precision'],
    ],
    [
      'a panic window percentage below 1',
      { 'panic-window-percentage': '0.5' },
      ['data[panic-window-percentage]: panic-window-percentage = 0.5, must be in [1, 100] interval'],
    ],
    [
      'initial-scale 0 without allow-zero-initial-scale',
      { 'initial-scale': '0' },
      [
        'data[initial-scale]: initial-scale = 0, must be at least 0 (or at least 1 when allow-zero-initial-scale is false)',
      ],
    ],
    [
      'max-scale 0 (unlimited) under a max-scale-limit',
      { 'max-scale-limit': '10' },
      ['data[max-scale]: max-scale = 0, must be in [1, max-scale-limit(10)] range'],
    ],
    [
      'max-scale above max-scale-limit',
      { 'max-scale': '11', 'max-scale-limit': '10' },
      ['data[max-scale]: max-scale = 11, must be in [1, max-scale-limit(10)] range'],
    ],
    [
      'a negative max-scale-limit',
      { 'max-scale-limit': '-1' },
      ['data[max-scale-limit]: max-scale-limit = -1, must be at least 0'],
    ],
  ];

  it.each(invalid)('rejects %s', (_name, data, expected) => {
    expect(problems(parseAutoscalerConfig(data).errors)).toEqual(expected);
  });

  const panic: [string, number, number, number][] = [
    ['10.8% of 60s, rounded to the nearest second', 60_000, 10.8, 6_000],
    ['never below the 1s bucket', 6_000, 1, 1_000],
  ];

  it.each(panic)('computes the panic window: %s', (_name, stableMs, percentage, expected) => {
    expect(panicWindowMs(stableMs, percentage)).toBe(expected);
  });
});
