// Table tests of config-defaults parsing against Knative's keys, defaults and messages.
import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../field-error.ts';
import { parseDefaultsConfig, userContainerName, type DefaultsConfig } from './defaults.ts';

const problems = (errors: readonly FieldError[]): string[] =>
  errors.map((e) => `${e.paths.join(', ')}: ${e.message}`);

const parent = { name: 'i-am-groot', namespace: 'guardians' };

describe('config-defaults', () => {
  const valid: [string, Record<string, string>, Partial<DefaultsConfig>, string, string][] = [
    [
      'an empty ConfigMap',
      {},
      {
        revisionTimeoutSeconds: 300,
        maxRevisionTimeoutSeconds: 600,
        revisionResponseStartTimeoutSeconds: 300,
        revisionIdleTimeoutSeconds: 0,
        containerConcurrency: 0,
        containerConcurrencyMaxLimit: 1000,
        allowContainerConcurrencyZero: true,
        enableServiceLinks: false,
        resources: { requests: {}, limits: {} },
      },
      'user-container',
      'init-container',
    ],
    [
      'the response-start timeout following revision-timeout-seconds, and resource defaults',
      {
        'revision-timeout-seconds': '100',
        'revision-idle-timeout-seconds': '50',
        'allow-container-concurrency-zero': 'false',
        'enable-service-links': 'TRUE',
        'revision-cpu-request': '100m',
        'revision-memory-limit': '1Gi',
      },
      {
        revisionTimeoutSeconds: 100,
        revisionResponseStartTimeoutSeconds: 100,
        revisionIdleTimeoutSeconds: 50,
        allowContainerConcurrencyZero: false,
        enableServiceLinks: true,
        resources: { requests: { cpu: '100m' }, limits: { memory: '1Gi' } },
      },
      'user-container',
      'init-container',
    ],
    [
      'enable-service-links "default" (unset) and name templates on the parent',
      {
        'enable-service-links': 'default',
        'container-name-template': '{{.Namespace}}-of-the-galaxy',
        'init-container-name-template': '{{.Name}}',
      },
      { enableServiceLinks: undefined },
      'guardians-of-the-galaxy',
      'i-am-groot',
    ],
  ];

  it.each(valid)('accepts %s', (_name, data, expected, container, init) => {
    const parsed = parseDefaultsConfig(data);
    expect(parsed.errors).toEqual([]);
    expect(parsed.config).toMatchObject(expected);
    expect(userContainerName(parsed.config, parent)).toBe(container);
    expect(userContainerName(parsed.config, parent, true)).toBe(init);
  });

  const invalid: [string, Record<string, string>, (string | ReturnType<typeof expect.stringMatching>)[]][] = [
    [
      'a timeout above the maximum',
      { 'revision-timeout-seconds': '456', 'max-revision-timeout-seconds': '123' },
      [
        'data[revision-timeout-seconds]: revision-timeout-seconds (456) cannot be greater than max-revision-timeout-seconds (123)',
      ],
    ],
    [
      'response-start and idle timeouts above the revision timeout',
      {
        'revision-timeout-seconds': '100',
        'revision-response-start-timeout-seconds': '200',
        'revision-idle-timeout-seconds': '101',
      },
      [
        'data[revision-response-start-timeout-seconds]: revision-response-start-timeout-seconds (200) cannot be greater than revision-timeout-seconds (100)',
        'data[revision-idle-timeout-seconds]: revision-idle-timeout-seconds (101) cannot be greater than revision-timeout-seconds (100)',
      ],
    ],
    [
      'container-concurrency above the limit',
      { 'container-concurrency': '2000' },
      ['data[container-concurrency]: expected 0 <= 2000 <= 1000'],
    ],
    [
      'a container-concurrency-max-limit of 0',
      { 'container-concurrency-max-limit': '0' },
      ['data[container-concurrency-max-limit]: expected 1 <= 0 <= 2147483647'],
    ],
    [
      'values that do not parse as int64, bool or quantity',
      {
        'revision-timeout-seconds': 'abc',
        'allow-container-concurrency-zero': 'invalid',
        'revision-cpu-limit': 'lots',
      },
      [
        'data[revision-timeout-seconds]: failed to parse "revision-timeout-seconds": strconv.ParseInt: parsing "abc": invalid syntax',
        'data[revision-cpu-limit]: failed to parse "revision-cpu-limit": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
        'data[allow-container-concurrency-zero]: strconv.ParseBool: parsing "invalid": invalid syntax',
      ],
    ],
    [
      'a template field ObjectMeta does not have (an execution error)',
      { 'container-name-template': '{{.NAme}}' },
      [
        expect.stringMatching(
          /^data\[container-name-template\]: error executing template: template: container-template\b.*can't evaluate field NAme/,
        ),
      ],
    ],
    [
      'a template that does not parse',
      { 'init-container-name-template': '{{animals-being-bros]]' },
      [expect.stringMatching(/^data\[init-container-name-template\]: template: container-template:1: /)],
    ],
  ];

  it.each(invalid)('rejects %s', (_name, data, expected) => {
    expect(problems(parseDefaultsConfig(data).errors)).toEqual(expected);
  });

  it('names the container "" when the template cannot execute on the parent', () => {
    const { config } = parseDefaultsConfig({ 'container-name-template': '{{.NAme}}' });
    expect(userContainerName(config, parent)).toBe('');
  });
});
