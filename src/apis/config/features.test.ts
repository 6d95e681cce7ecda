// Table tests of config-features parsing. Knative ignores a flag value it does not know; ebb keeps
// the default as well but reports the value, so a misspelt flag does not silently do nothing.
import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../field-error.ts';
import { FEATURE_DEFAULTS, featureAllows, parseFeaturesConfig, type FeaturesConfig } from './features.ts';

const problems = (errors: readonly FieldError[]): { path: string; message: string; details?: string }[] =>
  errors.map((e) => ({ path: e.paths.join(', '), message: e.message, details: e.details }));

describe('config-features', () => {
  it('has Knative defaults for an empty ConfigMap', () => {
    const { config, errors } = parseFeaturesConfig({});
    expect(errors).toEqual([]);
    expect(config.securePodDefaults).toBe('Disabled');
    expect(config.flags).toEqual(FEATURE_DEFAULTS);
    expect(Object.entries(config.flags).filter(([, v]) => v !== 'Disabled')).toEqual([
      ['multi-container', 'Enabled'],
      ['kubernetes.podspec-volumes-emptydir', 'Enabled'],
    ]);
    expect(Object.keys(config.flags)).toHaveLength(32);
  });

  const valid: [
    string,
    Record<string, string>,
    Partial<FeaturesConfig['flags']>,
    FeaturesConfig['securePodDefaults'],
  ][] = [
    [
      'values in any case, stored in canonical case',
      {
        'kubernetes.podspec-affinity': 'enabled',
        'kubernetes.podspec-fieldref': 'ALLOWED',
        'multi-container': 'disabled',
        'secure-pod-defaults': 'allowrootbounded',
      },
      {
        'kubernetes.podspec-affinity': 'Enabled',
        'kubernetes.podspec-fieldref': 'Allowed',
        'multi-container': 'Disabled',
        'kubernetes.podspec-dnspolicy': 'Disabled',
      },
      'AllowRootBounded',
    ],
    [
      'keys this version does not know (ignored, as in Knative)',
      { 'kubernetes.podspec-dryrun': 'allowed', 'responsive-revision-gc': 'enabled' },
      { 'multi-container': 'Enabled' },
      'Disabled',
    ],
  ];

  it.each(valid)('accepts %s', (_name, data, flags, securePodDefaults) => {
    const { config, errors } = parseFeaturesConfig(data);
    expect(errors).toEqual([]);
    expect(config.flags).toMatchObject(flags);
    expect(config.securePodDefaults).toBe(securePodDefaults);
    expect(config.flags).not.toHaveProperty('kubernetes.podspec-dryrun');
  });

  it.each([
    [
      'an unknown flag value',
      { 'kubernetes.podspec-affinity': 'yes' },
      'data[kubernetes.podspec-affinity]',
      'invalid value: yes',
      'expected one of: Enabled, Disabled, Allowed',
    ],
    [
      '"Allowed" for secure-pod-defaults',
      { 'secure-pod-defaults': 'Allowed' },
      'data[secure-pod-defaults]',
      'invalid value: Allowed',
      'expected one of: Disabled, AllowRootBounded, Enabled',
    ],
  ])('reports %s and keeps the default', (_name, data: Record<string, string>, path, message, details) => {
    const { config, errors } = parseFeaturesConfig(data);
    expect(problems(errors)).toEqual([{ path, message, details }]);
    expect(config.flags['kubernetes.podspec-affinity']).toBe('Disabled');
    expect(config.securePodDefaults).toBe('Disabled');
  });

  it('lets a gated PodSpec field through unless its flag is Disabled', () => {
    const allows = (value: string) =>
      featureAllows(
        parseFeaturesConfig({ 'kubernetes.podspec-tolerations': value }).config,
        'kubernetes.podspec-tolerations',
      );
    expect([allows('Enabled'), allows('Allowed'), allows('Disabled')]).toEqual([true, true, false]);
  });
});
