// Table tests of loading the Knative ConfigMaps together into one ClusterConfig.
import { describe, expect, it } from '@jest/globals';
import {
  applyConfigMapChange,
  asKnativeConfigMap,
  clusterConfigFromData,
  defaultClusterConfig,
  loadClusterConfig,
  parseConfigMap,
} from './cluster-config.ts';

const cm = (name: string, data: Record<string, unknown>, apiVersion = 'v1'): unknown => ({
  apiVersion,
  kind: 'ConfigMap',
  metadata: { name },
  data,
});

describe('ClusterConfig', () => {
  const recognised: [string, unknown, ReturnType<typeof asKnativeConfigMap>][] = [
    [
      'non-string data as strings',
      cm('config-defaults', { 'container-concurrency': 50, 'allow-container-concurrency-zero': false }),
      {
        name: 'config-defaults',
        data: { 'container-concurrency': '50', 'allow-container-concurrency-zero': 'false' },
      },
    ],
    [
      'a ConfigMap without data',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-gc' } },
      { name: 'config-gc', data: {} },
    ],
    ['not a core v1 ConfigMap', cm('config-gc', {}, 'v2'), undefined],
    ['a ConfigMap Knative does not define here', cm('config-logging', {}), undefined],
  ];

  it.each(recognised)('reads %s', (_name, object, expected) => {
    expect(asKnativeConfigMap(object)).toEqual(expected);
  });

  it('applies valid ConfigMaps and keeps the defaults of one that does not parse', () => {
    const defaults = defaultClusterConfig();
    const { config, errors } = loadClusterConfig([
      cm('config-defaults', { 'container-concurrency': 50 }),
      cm('config-gc', { 'min-non-active-revisions': '30', 'max-non-active-revisions': '10' }),
      { kind: 'Secret', metadata: { name: 'config-network' } },
      'not an object',
    ]);
    expect(errors).toEqual([
      {
        name: 'config-gc',
        message:
          'data[min-non-active-revisions]: min-non-active-revisions(30) must be <= max-non-active-revisions(10)',
      },
    ]);
    expect(config.defaults.containerConcurrency).toBe(50);
    expect(config.gc).toEqual(defaults.gc);
    expect(config.network.ingressClass).toBe('ebb.ingress.networking.knative.dev');
  });

  it('builds the config from ConfigMap name → data', () => {
    const { config, errors } = clusterConfigFromData({
      'config-features': { 'kubernetes.podspec-affinity': 'Enabled' },
      'config-network': { 'ingress-class': 'kourier.ingress.networking.knative.dev' },
    });
    expect(errors).toEqual([]);
    expect(config.features.flags['kubernetes.podspec-affinity']).toBe('Enabled');
    expect(config.network.ingressClass).toBe('kourier.ingress.networking.knative.dev');
  });

  it('reports the errors of one ConfigMap by name', () => {
    expect(parseConfigMap('config-autoscaler', { 'max-scale-up-rate': '1' })).toEqual([
      { message: 'max-scale-up-rate = 1, must be greater than 1.0', paths: ['data[max-scale-up-rate]'] },
    ]);
  });
});

describe('applyConfigMapChange', () => {
  const base = defaultClusterConfig();
  const withGC = applyConfigMapChange(base, 'config-gc', {
    'min-non-active-revisions': '2',
    'max-non-active-revisions': '5',
  }).config;

  it.each([
    ['a valid change replaces its part', base, 'config-gc', { 'min-non-active-revisions': '3' }, 3, true],
    [
      'a bad change keeps the last good version',
      withGC,
      'config-gc',
      { 'min-non-active-revisions': 'many' },
      2,
      false,
    ],
    ['a deletion restores Knative defaults', withGC, 'config-gc', undefined, 20, true],
    [
      'another ConfigMap changes nothing',
      withGC,
      'config-logging',
      { 'loglevel.controller': 'debug' },
      2,
      false,
    ],
  ] as const)('%s', (_name, current, name, data, minNonActive, changed) => {
    const next = applyConfigMapChange(current, name, data);
    expect(next.changed).toBe(changed);
    expect(next.config.gc.minNonActiveRevisions).toBe(minNonActive);
  });

  it('says why a change was rejected, and keeps every other part as it was', () => {
    const next = applyConfigMapChange(withGC, 'config-gc', { 'min-non-active-revisions': 'many' });
    expect(next.rejected).toContain('min-non-active-revisions');
    expect(next.config).toBe(withGC);
    expect(next.config.gc.maxNonActiveRevisions).toBe(5);
  });

  it('a valid change leaves the other ConfigMaps’ parts alone', () => {
    const next = applyConfigMapChange(withGC, 'config-domain', { 'example.org': '' });
    expect(next.config.gc).toBe(withGC.gc);
    expect(next.config.domain.entries.map((e) => e.domain)).toContain('example.org');
  });
});
