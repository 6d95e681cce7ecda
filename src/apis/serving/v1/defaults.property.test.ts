// Properties of defaulting over generated manifests (src/apis/testing/manifests.ts):
// - idempotent: defaulting a defaulted object changes nothing;
// - one template, one shape: what a Go client sends back on an update (the same object, encoded
//   from Go structs, so with the zero values Go writes) defaults to the template created, so an
//   update that changes no template never mints a Revision.
import { describe, expect, it } from '@jest/globals';
import { checkObject } from '../../check.ts';
import { clusterConfigFromData, type ClusterConfig } from '../../config/cluster-config.ts';
import { deepEqual } from '../../object-diff.ts';
import { manifestCases } from '../../testing/manifests.ts';

const SEED = 0x16_0001;
const CASES = 1200;

function configOf(maps: Record<string, Record<string, string>>): ClusterConfig {
  const loaded = clusterConfigFromData(maps);
  expect(loaded.errors).toEqual([]);
  return loaded.config;
}

const CONFIGS: [string, Record<string, Record<string, string>>][] = [
  ['Knative defaults', {}],
  [
    'config-defaults and secure pod defaults set',
    {
      'config-defaults': {
        'revision-timeout-seconds': '120',
        'revision-response-start-timeout-seconds': '30',
        'revision-idle-timeout-seconds': '60',
        'container-concurrency': '10',
        'revision-cpu-request': '100m',
        'revision-memory-limit': '256Mi',
      },
      'config-features': { 'secure-pod-defaults': 'Enabled' },
    },
  ],
];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The object as a Go client sends it back: decoded into Knative's Go structs and encoded again.
 * Fields without omitempty come back as their zero value: a probe's TCP or HTTP port, a
 * container's name, and the template's metadata.creationTimestamp (a nil time encodes as null).
 */
function asGoClientSends(object: unknown): unknown {
  const out = structuredClone(object) as Json;
  const spec = isObject(out.spec) ? out.spec : {};
  const template = out.kind === 'Revision' ? undefined : spec.template;
  if (isObject(template)) {
    template.metadata = {
      ...(isObject(template.metadata) ? template.metadata : {}),
      creationTimestamp: null,
    };
  }
  const pod = out.kind === 'Revision' ? spec : isObject(template) ? template.spec : undefined;
  if (!isObject(pod)) return out;
  for (const key of ['containers', 'initContainers']) {
    const list = pod[key];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!isObject(c)) continue;
      c.name ??= '';
      for (const which of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        const probe = c[which];
        if (!isObject(probe)) continue;
        for (const action of ['tcpSocket', 'httpGet']) {
          const a = probe[action];
          if (isObject(a)) a.port ??= 0;
        }
      }
    }
  }
  return out;
}

const specOf = (v: unknown): unknown => (isObject(v) ? v.spec : undefined);

describe.each(CONFIGS)('defaulting, with %s', (_name, maps) => {
  const config = configOf(maps);
  const cases = manifestCases(SEED, CASES);
  const defaulted = cases.map((c) => ({ c, first: checkObject(c.manifest, config).defaulted }));

  it('decodes most generated manifests, so the properties below are about something', () => {
    const decoded = defaulted.filter((d) => d.first !== undefined).length;
    expect(decoded).toBeGreaterThan(CASES * 0.8);
  });

  it('is idempotent: defaulting a defaulted object gives the same object', () => {
    const differ = defaulted
      .filter((d) => d.first !== undefined && !deepEqual(checkObject(d.first, config).defaulted, d.first))
      .map((d) => `#${d.c.index} ${d.c.description}`);
    expect(differ).toEqual([]);
  });

  it('gives the same spec to the manifest as written and as a Go client encodes it', () => {
    const differ = defaulted
      .filter((d) => {
        if (d.first === undefined) return false;
        const again = checkObject(asGoClientSends(d.c.manifest), config).defaulted;
        return !deepEqual(specOf(again), specOf(d.first));
      })
      .map((d) => `#${d.c.index} ${d.c.description}`);
    expect(differ).toEqual([]);
  });

  it('keeps the spec on an update that sends the stored object back from a Go client', () => {
    const differ = defaulted
      .filter((d) => {
        if (d.first === undefined || (d.first as Json).kind === 'Revision') return false;
        const update = checkObject(asGoClientSends(d.first), config, { old: d.first, user: 'someone' });
        return !deepEqual(specOf(update.defaulted), specOf(d.first));
      })
      .map((d) => `#${d.c.index} ${d.c.description}`);
    expect(differ).toEqual([]);
  });
});
