// Standalone Routes, Configurations and Revisions through the admission pipeline.
import { describe, expect, it } from '@jest/globals';
import { checkObject } from '../../check.ts';
import { defaultClusterConfig } from '../../config/cluster-config.ts';

type Json = Record<string, unknown>;
const image = 'dev.local/helloworld';

function object(kind: string, spec: Json, metadata: Json = {}): Json {
  return { apiVersion: 'serving.knative.dev/v1', kind, metadata: { name: 'obj', ...metadata }, spec };
}

function problems(input: Json, old?: Json): string[] {
  const config = defaultClusterConfig();
  const oldDefaulted = old === undefined ? undefined : checkObject(old, config).defaulted;
  return checkObject(input, config, oldDefaulted === undefined ? {} : { old: oldDefaulted }).errors.map(
    (e) => `${e.paths.join(', ')}: ${e.message}`,
  );
}

const QN =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const cases: [string, Json, string[]][] = [
  [
    'a Route to a configuration',
    object('Route', { traffic: [{ configurationName: 'cfg', percent: 100 }] }),
    [],
  ],
  [
    'a Route split between revisions with tags',
    object('Route', {
      traffic: [
        { tag: 'a', revisionName: 'cfg-1', percent: 70 },
        { tag: 'b', revisionName: 'cfg-2', percent: 30 },
      ],
    }),
    [],
  ],
  ['a Route with no traffic', object('Route', {}), ['spec.traffic: Traffic targets sum to 0, want 100']],
  [
    'a Route target naming nothing',
    object('Route', { traffic: [{ percent: 100 }] }),
    ['spec.traffic[0].configurationName, spec.traffic[0].revisionName: expected exactly one, got neither'],
  ],
  [
    'a Route target naming both',
    object('Route', { traffic: [{ revisionName: 'foo', configurationName: 'bar', percent: 100 }] }),
    ['spec.traffic[0].configurationName, spec.traffic[0].revisionName: expected exactly one, got both'],
  ],
  [
    'a revisionName with a space',
    object('Route', { traffic: [{ revisionName: 'b ar', percent: 100 }] }),
    ['spec.traffic[0].revisionName: invalid key name "b ar"'],
  ],
  [
    'a Route with an autoscaling annotation',
    object(
      'Route',
      { traffic: [{ configurationName: 'c', percent: 100 }] },
      { annotations: { 'autoscaling.knative.dev/window': '60s' } },
    ),
    ['metadata.annotations: invalid key name "autoscaling.knative.dev/window"'],
  ],
  [
    'a Route claiming a Service it is not owned by',
    object(
      'Route',
      { traffic: [{ configurationName: 'c', percent: 100 }] },
      { labels: { 'serving.knative.dev/service': 'absent-svc' } },
    ),
    ['metadata.labels.serving.knative.dev/service: missing field(s)'],
  ],
  [
    'a Route owned by the Service it names',
    object(
      'Route',
      { traffic: [{ configurationName: 'c', percent: 100 }] },
      {
        labels: { 'serving.knative.dev/service': 'svc' },
        ownerReferences: [{ apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'svc', uid: 'u' }],
      },
    ),
    [],
  ],
  ['a Configuration', object('Configuration', { template: { spec: { containers: [{ image }] } } }), []],
  [
    'a Configuration with no containers',
    object('Configuration', { template: { spec: {} } }),
    ['spec.template.spec.containers: missing field(s)'],
  ],
  [
    'a Configuration template name without its prefix',
    object('Configuration', {
      template: { metadata: { name: 'other-1' }, spec: { containers: [{ image }] } },
    }),
    ['spec.template.metadata.name: invalid value: "other-1" must have prefix "obj-"'],
  ],
  ['a Revision', object('Revision', { containers: [{ image }] }), []],
  [
    'a Revision with containerConcurrency -10',
    object('Revision', { containerConcurrency: -10, containers: [{ image }] }),
    ['spec.containerConcurrency: expected 0 <= -10 <= 1000'],
  ],
  [
    'a Revision labelled with a Configuration that does not own it',
    object(
      'Revision',
      { containers: [{ image }] },
      { labels: { 'serving.knative.dev/configuration': 'absent-cfg' } },
    ),
    ['metadata.labels.serving.knative.dev/configuration: missing field(s)'],
  ],
  [
    'a Revision with autoscaling annotations on itself',
    object(
      'Revision',
      { containers: [{ image }] },
      { annotations: { 'autoscaling.knative.dev/min-scale': '3', 'autoscaling.knative.dev/max-scale': '1' } },
    ),
    [
      'metadata.annotations.autoscaling.knative.dev/max-scale, metadata.annotations.autoscaling.knative.dev/min-scale: max-scale=1 is less than min-scale=3',
    ],
  ],
  ['an unknown kind in the group', object('DomainMapping', {}), ['kind: unknown kind "DomainMapping"']],
];

describe('Routes, Configurations and Revisions', () => {
  it.each(cases)('%s', (_name, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });

  it('gives qualified-name details for a bad revisionName', () => {
    const [error] = checkObject(
      object('Route', { traffic: [{ revisionName: 'b ar', percent: 100 }] }),
      defaultClusterConfig(),
    ).errors;
    expect(error?.details).toBe(QN);
  });

  it('keeps a Revision spec immutable', () => {
    const before = object('Revision', { containers: [{ image: 'dev.local/busybox' }] });
    const after = object('Revision', { containers: [{ image: 'dev.local/helloworld' }] });
    expect(problems(after, before)).toEqual(['spec: Immutable fields changed (-old +new)']);
    const config = defaultClusterConfig();
    const old = checkObject(before, config).defaulted;
    const [error] = checkObject(after, config, { old }).errors;
    expect(error?.details).toContain('containers[0].image: -"dev.local/busybox" +"dev.local/helloworld"');
  });

  it('lets Revision metadata change on update', () => {
    const config = defaultClusterConfig();
    // The stored object is the defaulted one; an update changes only its labels.
    const stored = checkObject(object('Revision', { containers: [{ image }] }), config).defaulted as Json;
    const updated = { ...stored, metadata: { name: 'obj', labels: { team: 'a' } } };
    expect(checkObject(updated, config, { old: stored }).errors).toEqual([]);
  });

  it('skips objects that are not Knative serving kinds', () => {
    const result = checkObject(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } },
      defaultClusterConfig(),
    );
    expect(result.skipped).toBe(true);
  });
});
