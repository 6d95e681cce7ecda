import { describe, expect, it } from '@jest/globals';
import { parseAutoscalerConfig } from '../config/autoscaler.ts';
import { formatFieldError, normalizeErrors } from '../field-error.ts';
import { validateAutoscalingAnnotations } from './annotation-validation.ts';

const a = (name: string) => `autoscaling.knative.dev/${name}`;

function check(annotations: Record<string, string>, config: Record<string, string>): string[] {
  const parsed = parseAutoscalerConfig(config);
  expect(parsed.errors).toEqual([]);
  return normalizeErrors(validateAutoscalingAnnotations(annotations, parsed.config)).map((e) =>
    formatFieldError({ paths: e.paths, message: e.message }),
  );
}

const cases: [string, Record<string, string>, Record<string, string>, string[]][] = [
  [
    'every annotation in range',
    {
      [a('class')]: 'kpa.autoscaling.knative.dev',
      [a('metric')]: 'rps',
      [a('target')]: '150',
      [a('target-utilization-percentage')]: '70',
      [a('min-scale')]: '1',
      [a('max-scale')]: '10',
      [a('initial-scale')]: '2',
      [a('activation-scale')]: '3',
      [a('window')]: '1m',
      [a('panic-window-percentage')]: '20',
      [a('panic-threshold-percentage')]: '300',
      [a('target-burst-capacity')]: '-1',
      [a('scale-down-delay')]: '30s',
      [a('scale-to-zero-pod-retention-period')]: '1m5s',
      [a('metric-aggregation-algorithm')]: 'weighted-exponential',
    },
    {},
    [],
  ],
  ['camelCase aliases', { [a('minScale')]: '2', [a('maxScale')]: '3', [a('initialScale')]: '2' }, {}, []],
  [
    'an unknown knative.dev class',
    { [a('class')]: 'unsupported.knative.dev' },
    {},
    [`${a('class')}: invalid value: unsupported.knative.dev`],
  ],
  ['a third-party class', { [a('class')]: 'some.other.domain' }, {}, []],
  [
    'a negative min-scale',
    { [a('min-scale')]: '-1' },
    {},
    [`${a('min-scale')}: expected 0 <= -1 <= 2147483647`],
  ],
  [
    'a max-scale beyond int32',
    { [a('max-scale')]: '2147483648' },
    {},
    [`${a('max-scale')}: expected 0 <= 2147483648 <= 2147483647`],
  ],
  [
    'a min-scale that is not a number',
    { [a('min-scale')]: 'foo' },
    {},
    [`${a('min-scale')}: invalid value: foo`],
  ],
  [
    'max below min',
    { [a('min-scale')]: '5', [a('max-scale')]: '2' },
    {},
    [`${a('max-scale')}, ${a('min-scale')}: max-scale=2 is less than min-scale=5`],
  ],
  [
    'max above max-scale-limit',
    { [a('max-scale')]: '20' },
    { 'max-scale-limit': '10', 'max-scale': '10' },
    [`${a('max-scale')}: expected 1 <= 20 <= 10`],
  ],
  [
    'unlimited max with a max-scale-limit',
    { [a('max-scale')]: '0' },
    { 'max-scale-limit': '10', 'max-scale': '10' },
    [`${a('max-scale')}: max-scale=0 (unlimited), must be less than 10`],
  ],
  [
    'activation-scale 1',
    { [a('activation-scale')]: '1' },
    {},
    [`${a('activation-scale')}: activation-scale=1 must be greater than 1`],
  ],
  [
    'activation-scale below min-scale',
    { [a('min-scale')]: '4', [a('activation-scale')]: '3' },
    {},
    [`${a('activation-scale')}: min-scale=4 is greater than activation-scale=3`],
  ],
  [
    'activation-scale above max-scale',
    { [a('max-scale')]: '2', [a('activation-scale')]: '3' },
    {},
    [`${a('activation-scale')}: max-scale=2 is less than activation-scale=3`],
  ],
  [
    'target below 0.01',
    { [a('target')]: '0.001' },
    {},
    [`${a('target')}: target 0.001 should be at least 0.01`],
  ],
  [
    'target-utilization-percentage 0',
    { [a('target-utilization-percentage')]: '0' },
    {},
    [`${a('target-utilization-percentage')}: expected 1 <= 0 <= 100`],
  ],
  [
    'panic-window-percentage 101',
    { [a('panic-window-percentage')]: '101' },
    {},
    [`${a('panic-window-percentage')}: expected 1 <= 101 <= 100`],
  ],
  [
    'panic-threshold-percentage 100',
    { [a('panic-threshold-percentage')]: '100' },
    {},
    [`${a('panic-threshold-percentage')}: expected 110 <= 100 <= 1000`],
  ],
  [
    'target-burst-capacity -2',
    { [a('target-burst-capacity')]: '-2' },
    {},
    [`${a('target-burst-capacity')}: invalid value: -2`],
  ],
  ['a window of 2s', { [a('window')]: '2s' }, {}, [`${a('window')}: expected 6s <= 2s <= 1h0m0s`]],
  ['a window of 2h', { [a('window')]: '2h' }, {}, [`${a('window')}: expected 6s <= 2h <= 1h0m0s`]],
  [
    'a window below second precision',
    { [a('window')]: '6500ms' },
    {},
    [`${a('window')}: must be specified with at most second precision`],
  ],
  ['a window that is not a duration', { [a('window')]: 'soon' }, {}, [`${a('window')}: invalid value: soon`]],
  [
    'scale-down-delay over an hour',
    { [a('scale-down-delay')]: '2h' },
    {},
    [`${a('scale-down-delay')}: expected 0s <= 2h <= 1h0m0s`],
  ],
  [
    'scale-down-delay below second precision',
    { [a('scale-down-delay')]: '1.5s' },
    {},
    [`${a('scale-down-delay')}: must be specified with at most second precision`],
  ],
  [
    'retention period negative',
    { [a('scale-to-zero-pod-retention-period')]: '-1s' },
    {},
    [`${a('scale-to-zero-pod-retention-period')}: expected 0s <= -1s <= 1h0m0s`],
  ],
  ['metric cpu for the KPA', { [a('metric')]: 'cpu' }, {}, [`${a('metric')}: invalid value: cpu`]],
  ['metric cpu for the HPA', { [a('class')]: 'hpa.autoscaling.knative.dev', [a('metric')]: 'cpu' }, {}, []],
  [
    'metric rps when the cluster default class is HPA',
    { [a('metric')]: 'memory' },
    { 'pod-autoscaler-class': 'hpa.autoscaling.knative.dev' },
    [],
  ],
  [
    'an unknown aggregation algorithm',
    { [a('class')]: 'kpa.autoscaling.knative.dev', [a('metric-aggregation-algorithm')]: 'median' },
    {},
    [`${a('metric-aggregation-algorithm')}: invalid value: median`],
  ],
  [
    'initial-scale 0 not allowed',
    { [a('initial-scale')]: '0' },
    {},
    [`${a('initial-scale')}=0 not allowed by cluster: invalid value: 0`],
  ],
  [
    'initial-scale 0 allowed by the cluster',
    { [a('initial-scale')]: '0' },
    { 'allow-zero-initial-scale': 'true' },
    [],
  ],
  [
    'initial-scale negative',
    { [a('initial-scale')]: '-2' },
    {},
    [`${a('initial-scale')} must be greater than 0: invalid value: -2`],
  ],
];

describe('validateAutoscalingAnnotations', () => {
  it.each(cases)('%s', (_name, annotations, config, expected) => {
    expect(check(annotations, config)).toEqual(expected);
  });
});
