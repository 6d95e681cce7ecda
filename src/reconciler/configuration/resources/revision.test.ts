// Tests for the Revision a Configuration stamps out: its name (`<config>-<generation>` or the
// user's), the labels tying it to its Configuration and Service, the creator taken from
// lastModifier, and its owner. Golden vectors from serving's configuration/resources TestMakeRevisions.
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ANNOTATIONS, LABELS } from '../../../apis/serving/register.ts';
import type { Configuration } from '../../../apis/serving/v1/configuration-types.ts';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';
import { ROUTING_STATE_PENDING, makeRevision, revisionLabels, revisionName } from './revision.ts';

// serving's fakeCurTime, time.Unix(1e9, 20102021), stamped at whole seconds.
const NOW = new Date(1e12 + 20);
const MODIFIED = '2001-09-09T01:46:40Z';
const CONFIG_UID = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
const SERVICE_UID = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';
const SPEC = { containers: [{ image: 'busybox' }] };

interface ConfigOptions {
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  template?: Configuration['spec']['template'];
}

function config(namespace: string, name: string, o: ConfigOptions = {}): Configuration {
  const metadata: Configuration['metadata'] = {
    namespace,
    name,
    uid: CONFIG_UID,
    generation: o.generation ?? 10,
    labels: o.labels ?? { [LABELS.serviceUID]: SERVICE_UID },
  };
  if (o.annotations !== undefined) metadata.annotations = o.annotations;
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Configuration',
    metadata,
    spec: { template: o.template ?? { spec: SPEC } },
  };
}

function owner(name: string) {
  return [
    {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Configuration',
      name,
      uid: CONFIG_UID,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

function labels(
  name: string,
  generation: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    [LABELS.configuration]: name,
    [LABELS.configurationGeneration]: generation,
    [LABELS.configurationUID]: CONFIG_UID,
    [LABELS.routingState]: ROUTING_STATE_PENDING,
    [LABELS.service]: '',
    [LABELS.serviceUID]: SERVICE_UID,
    ...extra,
  };
}

function revision(
  namespace: string,
  name: string,
  owned: string,
  meta: { labels: Record<string, string>; annotations: Record<string, string> },
): Revision {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Revision',
    metadata: {
      name,
      namespace,
      labels: meta.labels,
      annotations: meta.annotations,
      ownerReferences: owner(owned),
    },
    spec: SPEC,
  };
}

describe('revisionName', () => {
  const long = 'a'.repeat(60);
  const hashed = long.slice(0, 63 - 32 - 6) + createHash('md5').update(long).digest('hex') + '-00001';

  it.each<[string, Configuration, string]>([
    ['generation 1', config('ns', 'hello', { generation: 1 }), 'hello-00001'],
    ['five digits at least', config('ns', 'hello', { generation: 12345 }), 'hello-12345'],
    ['more digits when needed', config('ns', 'hello', { generation: 123456 }), 'hello-123456'],
    [
      'bring-your-own name',
      config('ns', 'hello', { generation: 7, template: { metadata: { name: 'hello-blue' }, spec: SPEC } }),
      'hello-blue',
    ],
    [
      'an empty template name is no name',
      config('ns', 'hello', { generation: 7, template: { metadata: { name: '' }, spec: SPEC } }),
      'hello-00007',
    ],
    ['a parent too long for 63 characters is cut and hashed', config('ns', long, { generation: 1 }), hashed],
  ])('%s', (_name, cfg, want) => {
    expect(revisionName(cfg)).toBe(want);
  });

  it('keeps hashed names within 63 characters', () => {
    expect(hashed).toHaveLength(63);
  });
});

describe('revisionLabels', () => {
  it.each<[string, Configuration, Record<string, string>]>([
    [
      'a Configuration of a Service',
      config('ns', 'hello', {
        generation: 4,
        labels: { [LABELS.service]: 'hello', [LABELS.serviceUID]: SERVICE_UID, team: 'a' },
      }),
      {
        [LABELS.configuration]: 'hello',
        [LABELS.configurationGeneration]: '4',
        [LABELS.configurationUID]: CONFIG_UID,
        [LABELS.service]: 'hello',
        [LABELS.serviceUID]: SERVICE_UID,
      },
    ],
    [
      'a standalone Configuration: the service labels are empty',
      config('ns', 'solo', { generation: 2, labels: {} }),
      {
        [LABELS.configuration]: 'solo',
        [LABELS.configurationGeneration]: '2',
        [LABELS.configurationUID]: CONFIG_UID,
        [LABELS.service]: '',
        [LABELS.serviceUID]: '',
      },
    ],
  ])('%s', (_name, cfg, want) => {
    expect(revisionLabels(cfg)).toEqual(want);
  });
});

describe('makeRevision', () => {
  const cases: [string, Configuration, Revision][] = [
    [
      'no template metadata',
      config('no', 'build'),
      revision('no', 'build-00010', 'build', {
        labels: labels('build', '10'),
        annotations: { [ANNOTATIONS.routingStateModified]: MODIFIED },
      }),
    ],
    [
      'with labels',
      config('with', 'labels', {
        generation: 100,
        template: { metadata: { labels: { foo: 'bar', baz: 'blah' } }, spec: SPEC },
      }),
      revision('with', 'labels-00100', 'labels', {
        labels: labels('labels', '100', { foo: 'bar', baz: 'blah' }),
        annotations: { [ANNOTATIONS.routingStateModified]: MODIFIED },
      }),
    ],
    [
      'with annotations',
      config('with', 'annotations', {
        generation: 100,
        template: { metadata: { annotations: { foo: 'bar', baz: 'blah' } }, spec: SPEC },
      }),
      revision('with', 'annotations-00100', 'annotations', {
        labels: labels('annotations', '100'),
        annotations: { foo: 'bar', baz: 'blah', [ANNOTATIONS.routingStateModified]: MODIFIED },
      }),
    ],
    [
      'with creator annotation from config with other annotations',
      config('anno', 'config', {
        annotations: { [ANNOTATIONS.creator]: 'admin', [ANNOTATIONS.lastModifier]: 'someone' },
        template: { metadata: { annotations: { foo: 'bar', baz: 'blah' } }, spec: SPEC },
      }),
      revision('anno', 'config-00010', 'config', {
        labels: labels('config', '10'),
        annotations: {
          [ANNOTATIONS.creator]: 'someone',
          foo: 'bar',
          baz: 'blah',
          [ANNOTATIONS.routingStateModified]: MODIFIED,
        },
      }),
    ],
    [
      'with creator annotation from config, already routed: the revision starts active',
      config('anno', 'config', {
        annotations: {
          [ANNOTATIONS.creator]: 'admin',
          [ANNOTATIONS.lastModifier]: 'someone',
          [ANNOTATIONS.routes]: 'route',
        },
      }),
      revision('anno', 'config-00010', 'config', {
        labels: labels('config', '10', { [LABELS.routingState]: 'active' }),
        annotations: {
          [ANNOTATIONS.creator]: 'someone',
          [ANNOTATIONS.routes]: 'route',
          [ANNOTATIONS.routingStateModified]: MODIFIED,
        },
      }),
    ],
    [
      'template labels cannot override the labels that tie the revision to its configuration',
      config('ns', 'cfg', {
        generation: 3,
        template: {
          metadata: {
            labels: {
              [LABELS.configuration]: 'other',
              [LABELS.configurationGeneration]: '99',
              [LABELS.routingState]: 'active',
            },
          },
          spec: SPEC,
        },
      }),
      revision('ns', 'cfg-00003', 'cfg', {
        labels: labels('cfg', '3'),
        annotations: { [ANNOTATIONS.routingStateModified]: MODIFIED },
      }),
    ],
    [
      'bring-your-own name',
      config('ns', 'cfg', { generation: 3, template: { metadata: { name: 'cfg-blue' }, spec: SPEC } }),
      revision('ns', 'cfg-blue', 'cfg', {
        labels: labels('cfg', '3'),
        annotations: { [ANNOTATIONS.routingStateModified]: MODIFIED },
      }),
    ],
  ];

  it.each(cases)('%s', (_name, cfg, want) => {
    expect(makeRevision(cfg, NOW)).toEqual(want);
  });

  it('copies the template spec deeply', () => {
    const cfg = config('ns', 'cfg');
    const rev = makeRevision(cfg, NOW);
    const container = rev.spec.containers?.[0];
    if (container === undefined) throw new Error('spec lost its container');
    container.image = 'changed';
    expect(cfg.spec.template.spec?.containers?.[0]?.image).toBe('busybox');
  });

  it('writes label and annotation keys sorted', () => {
    const rev = makeRevision(
      config('ns', 'cfg', {
        template: { metadata: { labels: { z: '1', a: '1' }, annotations: { z: '1', a: '1' } }, spec: SPEC },
      }),
      NOW,
    );
    const labelKeys = Object.keys(rev.metadata.labels ?? {});
    const annotationKeys = Object.keys(rev.metadata.annotations ?? {});
    expect(labelKeys).toEqual([...labelKeys].sort());
    expect(annotationKeys).toEqual([...annotationKeys].sort());
  });
});
