// Table tests of config-deployment parsing against Knative's keys, defaults and messages.
import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../field-error.ts';
import { parseDeploymentConfig, type DeploymentConfig } from './deployment.ts';

const problems = (errors: readonly FieldError[]): string[] =>
  errors.map((e) => `${e.paths.join(', ')}: ${e.message}`);

describe('config-deployment', () => {
  const valid: [string, Record<string, string>, DeploymentConfig][] = [
    [
      'an empty ConfigMap (ebb has no queue-proxy, so no queue-sidecar-image is required)',
      {},
      {
        progressDeadlineMs: 600_000,
        digestResolutionTimeoutMs: 10_000,
        registriesSkippingTagResolving: ['kind.local', 'ko.local', 'dev.local'],
        podIsAlwaysSchedulable: false,
        defaultAffinityType: 'prefer-spread-revision-over-nodes',
        runtimeClassNames: {},
      },
    ],
    [
      'the legacy camelCase keys, and queue-sidecar keys accepted and ignored',
      {
        progressDeadline: '30s',
        digestResolutionTimeout: '5s',
        registriesSkippingTagResolving: 'ko.local,,',
        queueSidecarImage: 'gcr.io/queue',
        'queue-sidecar-cpu-request': '25m',
        'queue-sidecar-memory-limit': '200Mi',
      },
      {
        progressDeadlineMs: 30_000,
        digestResolutionTimeoutMs: 5_000,
        registriesSkippingTagResolving: ['ko.local', '', ''],
        podIsAlwaysSchedulable: false,
        defaultAffinityType: 'prefer-spread-revision-over-nodes',
        runtimeClassNames: {},
      },
    ],
    [
      'the kebab-case keys overriding their legacy aliases',
      {
        progressDeadline: '30s',
        'progress-deadline': '45s',
        digestResolutionTimeout: 'not-a-duration',
        'digest-resolution-timeout': '1m',
        registriesSkippingTagResolving: 'old.local',
        'registries-skipping-tag-resolving': 'registry.local',
        'pod-is-always-schedulable': 'true',
        'default-affinity-type': 'none',
        'runtime-class-name': 'gvisor:\n  selector:\n    sandboxed: "true"\nkata: {}',
      },
      {
        progressDeadlineMs: 45_000,
        digestResolutionTimeoutMs: 60_000,
        registriesSkippingTagResolving: ['registry.local'],
        podIsAlwaysSchedulable: true,
        defaultAffinityType: 'none',
        runtimeClassNames: { gvisor: { selector: { sandboxed: 'true' } }, kata: {} },
      },
    ],
  ];

  it.each(valid)('accepts %s', (_name, data, expected) => {
    const parsed = parseDeploymentConfig(data);
    expect(parsed.errors).toEqual([]);
    expect(parsed.config).toEqual(expected);
  });

  const invalid: [string, Record<string, string>, (string | ReturnType<typeof expect.stringMatching>)[]][] = [
    [
      'non-positive durations',
      { 'progress-deadline': '0s', digestResolutionTimeout: '-5s' },
      [
        'data[progress-deadline]: progress-deadline cannot be a non-positive duration, was 0s',
        'data[digest-resolution-timeout]: digest-resolution-timeout cannot be a non-positive duration, was -5s',
      ],
    ],
    [
      'a progress deadline that is not a whole second',
      { progressDeadline: '1500ms' },
      ['data[progress-deadline]: progress-deadline must be rounded to a whole second, was: 1.5s'],
    ],
    [
      'values that do not parse',
      {
        'progress-deadline': 'soon',
        'pod-is-always-schedulable': 'yes',
        'queue-sidecar-cpu-request': 'lots',
      },
      [
        'data[progress-deadline]: failed to parse "progress-deadline": time: invalid duration "soon"',
        'data[pod-is-always-schedulable]: strconv.ParseBool: parsing "yes": invalid syntax',
        'data[queue-sidecar-cpu-request]: failed to parse "queue-sidecar-cpu-request": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
      ],
    ],
    [
      'an affinity type in the wrong case',
      { 'default-affinity-type': 'None' },
      ['data[default-affinity-type]: unsupported default-affinity-type value: "None"'],
    ],
    [
      'runtime-class-name that is not YAML',
      { 'runtime-class-name': 'gvisor: [' },
      [
        expect.stringMatching(
          /^data\[runtime-class-name\]: runtime-class-name cannot be parsed, please check the format: \S/,
        ),
      ],
    ],
  ];

  it.each(invalid)('rejects %s', (_name, data, expected) => {
    expect(problems(parseDeploymentConfig(data).errors)).toEqual(expected);
  });
});
