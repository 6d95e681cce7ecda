// Table tests of the whole admission pipeline (decode → defaults → validate) for Services, with
// Knative's messages and paths.
import { describe, expect, it } from '@jest/globals';
import { checkObject } from '../../check.ts';
import { clusterConfigFromData } from '../../config/cluster-config.ts';

type Json = Record<string, unknown>;

function service(spec: Json, metadata: Json = {}): Json {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'svc', namespace: 'default', ...metadata },
    spec,
  };
}

function template(podSpec: Json, metadata?: Json): Json {
  return metadata === undefined ? { spec: podSpec } : { metadata, spec: podSpec };
}

const image = 'dev.local/helloworld';
const one = (container: Json = {}, extra: Json = {}): Json => ({
  template: template({ containers: [{ image, ...container }], ...extra }),
});
const annotated = (annotations: Record<string, string>): Json => ({
  template: template({ containers: [{ image }] }, { annotations }),
});

function configMaps(maps: Record<string, Record<string, string>>) {
  const loaded = clusterConfigFromData(maps);
  expect(loaded.errors).toEqual([]);
  return loaded.config;
}

/** `paths: message`, the form `ebb validate` prints (without details). */
function problems(input: Json, maps: Record<string, Record<string, string>> = {}): string[] {
  return checkObject(input, configMaps(maps)).errors.map((e) => `${e.paths.join(', ')}: ${e.message}`);
}

const DNS1035 =
  "[a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')]";

describe('Service validation', () => {
  const valid: [string, Json, Record<string, Record<string, string>>][] = [
    ['a single container', service(one()), {}],
    [
      'traffic split by revision and latest',
      service({
        ...one(),
        traffic: [
          { revisionName: 'svc-00001', percent: 40 },
          { latestRevision: true, percent: 60 },
        ],
      }),
      {},
    ],
    [
      'a 0% tag next to 100% latest',
      service({
        ...one(),
        traffic: [{ tag: 'candidate', revisionName: 'svc-b', percent: 0 }, { percent: 100 }],
      }),
      {},
    ],
    [
      'cluster-local visibility',
      service(one(), { labels: { 'networking.knative.dev/visibility': 'cluster-local' } }),
      {},
    ],
    // Knative neither bounds these two timeouts nor checks the visibility label's value (any value
    // but cluster-local means public).
    [
      'responseStartTimeoutSeconds over the maximum',
      service(one({}, { responseStartTimeoutSeconds: 700 })),
      {},
    ],
    ['a negative idleTimeoutSeconds', service(one({}, { idleTimeoutSeconds: -1 })), {}],
    [
      'a visibility label other than cluster-local',
      service(one(), { labels: { 'networking.knative.dev/visibility': 'bad-label' } }),
      {},
    ],
    [
      'a bring-your-own revision name',
      service({ template: template({ containers: [{ image }] }, { name: 'svc-v2' }) }),
      {},
    ],
    [
      'rollout-duration in whole seconds',
      service(one(), { annotations: { 'serving.knative.dev/rollout-duration': '380s' } }),
      {},
    ],
    [
      'containerConcurrency 1 and timeout 600',
      service(one({}, { containerConcurrency: 1, timeoutSeconds: 600 })),
      {},
    ],
    [
      'an emptyDir volume mounted',
      service({
        template: template({
          containers: [{ image, volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }],
          volumes: [{ name: 'cache', emptyDir: {} }],
        }),
      }),
      {},
    ],
    [
      'affinity when the feature is enabled',
      service(one({}, { affinity: { nodeAffinity: {} } })),
      { 'config-features': { 'kubernetes.podspec-affinity': 'enabled' } },
    ],
    [
      'initial-scale 0 when the cluster allows it',
      service(annotated({ 'autoscaling.knative.dev/initial-scale': '0' })),
      { 'config-autoscaler': { 'allow-zero-initial-scale': 'true' } },
    ],
    [
      'an http probe on the named serving port',
      service(
        one({
          ports: [{ containerPort: 8081 }],
          readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
        }),
      ),
      {},
    ],
    [
      'an image with registry, port, tag and digest',
      service(one({ image: `registry.example.com:5000/team/app:v1.2@sha256:${'a'.repeat(64)}` })),
      {},
    ],
  ];

  it.each(valid)('accepts %s', (_name, input, maps) => {
    expect(problems(input, maps)).toEqual([]);
  });

  const invalid: [string, Json, string[], Record<string, Record<string, string>>][] = [
    [
      'traffic that does not sum to 100',
      service({ ...one(), traffic: [{ latestRevision: true, percent: 90 }] }),
      ['spec.traffic: Traffic targets sum to 90, want 100'],
      {},
    ],
    [
      'a percent over 100',
      service({ ...one(), traffic: [{ percent: 101 }] }),
      [
        'spec.traffic: Traffic targets sum to 101, want 100',
        'spec.traffic[0].percent: expected 0 <= 101 <= 100',
      ],
      {},
    ],
    [
      'a negative percent',
      service({ ...one(), traffic: [{ percent: -5 }, { revisionName: 'svc-a', percent: 105 }] }),
      [
        'spec.traffic[0].percent: expected 0 <= -5 <= 100',
        'spec.traffic[1].percent: expected 0 <= 105 <= 100',
      ],
      {},
    ],
    [
      'a duplicate tag',
      service({
        ...one(),
        traffic: [
          { tag: 'foo', revisionName: 'svc-a', percent: 50 },
          { tag: 'foo', revisionName: 'svc-b', percent: 50 },
        ],
      }),
      ['spec.traffic[0].tag, spec.traffic[1].tag: Multiple definitions for "foo"'],
      {},
    ],
    [
      'a tag that is not a DNS label',
      service({ ...one(), traffic: [{ tag: 'foo@', percent: 100 }] }),
      [`spec.traffic.tag[0]: invalid value: not a DNS 1035 label: ${DNS1035}`],
      {},
    ],
    [
      'configurationName inside a Service',
      service({ ...one(), traffic: [{ configurationName: 'valid', latestRevision: true, percent: 100 }] }),
      ['spec.traffic[0].configurationName: must not set the field(s)'],
      {},
    ],
    [
      'latestRevision true with a revisionName',
      service({ ...one(), traffic: [{ revisionName: 'valid', latestRevision: true, percent: 100 }] }),
      ['spec.traffic[0].latestRevision: may not set revisionName "valid" when latestRevision is true'],
      {},
    ],
    [
      'latestRevision false without a revisionName',
      service({ ...one(), traffic: [{ latestRevision: false, percent: 100 }] }),
      ['spec.traffic[0].latestRevision: may not set revisionName "" when latestRevision is false'],
      {},
    ],
    [
      'url in spec',
      service({ ...one(), traffic: [{ tag: 'a', percent: 100, url: 'http://a.example.com' }] }),
      ['spec.traffic[0].url: must not set the field(s)'],
      {},
    ],
    [
      'containerConcurrency -10',
      service(one({}, { containerConcurrency: -10 })),
      ['spec.template.spec.containerConcurrency: expected 0 <= -10 <= 1000'],
      {},
    ],
    [
      'containerConcurrency 0 when the cluster forbids it',
      service(one({}, { containerConcurrency: 0 })),
      ['spec.template.spec.containerConcurrency: expected 1 <= 0 <= 1000'],
      { 'config-defaults': { 'allow-container-concurrency-zero': 'false' } },
    ],
    [
      'timeoutSeconds over the maximum',
      service(one({}, { timeoutSeconds: 6000 })),
      ['spec.template.spec.timeoutSeconds: expected 0 <= 6000 <= 600'],
      {},
    ],
    [
      'a negative timeoutSeconds',
      service(one({}, { timeoutSeconds: -30 })),
      ['spec.template.spec.timeoutSeconds: expected 0 <= -30 <= 600'],
      {},
    ],
    [
      'timeoutSeconds over a lowered maximum',
      service(one({}, { timeoutSeconds: 100 })),
      ['spec.template.spec.timeoutSeconds: expected 0 <= 100 <= 50'],
      { 'config-defaults': { 'max-revision-timeout-seconds': '50', 'revision-timeout-seconds': '30' } },
    ],
    [
      'a bad rollout-duration',
      service(one(), { annotations: { 'serving.knative.dev/rollout-duration': 'CLXXXIIIs' } }),
      ['metadata.annotations.serving.knative.dev/rollout-duration: invalid value: CLXXXIIIs'],
      {},
    ],
    [
      'a rollout-duration below a second',
      service(one(), { annotations: { 'serving.knative.dev/rollout-duration': '1500ms' } }),
      [
        'metadata.annotations.serving.knative.dev/rollout-duration: rollout-duration=1500ms is not at second precision',
      ],
      {},
    ],
    [
      'a negative rollout-duration',
      service(one(), { annotations: { 'serving.knative.dev/rolloutDuration': '-211s' } }),
      ['metadata.annotations.serving.knative.dev/rolloutDuration: rollout-duration=-211s must be positive'],
      {},
    ],
    [
      'an autoscaling annotation on the Service',
      service(one(), { annotations: { 'autoscaling.knative.dev/min-scale': '1' } }),
      ['metadata.annotations: invalid key name "autoscaling.knative.dev/min-scale"'],
      {},
    ],
    [
      'a name with dots',
      service(one(), { name: 'do.not.use.dots' }),
      [`metadata.name: not a DNS 1035 label: ${DNS1035}`],
      {},
    ],
    [
      'a name of 64 characters',
      service(one(), { name: 'a'.repeat(64) }),
      ['metadata.name: not a DNS 1035 label: [must be no more than 63 characters]'],
      {},
    ],
    [
      'no name at all',
      service(one(), { name: undefined }),
      ['metadata.name: name or generateName is required'],
      {},
    ],
    [
      'a revision name without the Service prefix',
      service({ template: template({ containers: [{ image }] }, { name: 'foo' }) }),
      ['spec.template.metadata.name: invalid value: "foo" must have prefix "svc-"'],
      {},
    ],
    [
      'a revision name with generateName on the Service',
      service(
        { template: template({ containers: [{ image }] }, { name: 'svc-1' }) },
        { name: undefined, generateName: 'svc-' },
      ),
      ['spec.template.metadata.name: must not set the field(s)'],
      {},
    ],
    [
      'an unknown field in the container',
      service(one({ imagePullPolcy: 'Always' })),
      ['spec.template.spec.containers[0].imagePullPolcy: unknown field "imagePullPolcy"'],
      {},
    ],
    [
      'an unknown field in the spec',
      service({ ...one(), trafic: [] }),
      ['spec.trafic: unknown field "trafic"'],
      {},
    ],
    [
      'a string where a number belongs',
      service(one({}, { containerConcurrency: 'ten' })),
      ['spec.template.spec.containerConcurrency: expected number, got string'],
      {},
    ],
    [
      'an unsupported apiVersion',
      { ...service(one()), apiVersion: 'serving.knative.dev/v1alpha1' },
      ['apiVersion: unsupported apiVersion "serving.knative.dev/v1alpha1"'],
      {},
    ],
  ];

  it.each(invalid)('rejects %s', (_name, input, expected, maps) => {
    expect(problems(input, maps)).toEqual(expected);
  });

  it('reports unknown fields together with every other problem', () => {
    const input = service(one({ imagePullPolcy: 'Always' }, { containerConcurrency: 5000 }));
    expect(problems(input)).toEqual([
      'spec.template.spec.containerConcurrency: expected 0 <= 5000 <= 1000',
      'spec.template.spec.containers[0].imagePullPolcy: unknown field "imagePullPolcy"',
    ]);
  });

  it('gives the traffic-sum error the advice users need', () => {
    const [error] = checkObject(service({ ...one(), traffic: [{ percent: 90 }] }), configMaps({})).errors;
    expect(error?.details).toBe('the percent of all traffic targets must add up to exactly 100');
  });
});

describe('Service updates', () => {
  const config = () => configMaps({});
  const named = (image: string) =>
    service({ template: template({ containers: [{ image }] }, { name: 'svc-byo' }) });

  it('rejects a template change that keeps a bring-your-own name', () => {
    const old = checkObject(named('dev.local/app-a'), config()).defaulted;
    const result = checkObject(named('dev.local/app-b'), config(), { old });
    expect(result.errors.map((e) => `${e.paths.join(', ')}: ${e.message}`)).toEqual([
      'spec.template.metadata.name: Saw the following changes without a name change (-old +new)',
    ]);
    expect(result.errors[0]?.details).toContain('"dev.local/app-a"');
  });

  it('accepts a template change with a new name', () => {
    const old = checkObject(named('dev.local/app-a'), config()).defaulted;
    const next = service({
      template: template({ containers: [{ image: 'dev.local/app-b' }] }, { name: 'svc-byo2' }),
    });
    expect(checkObject(next, config(), { old }).errors).toEqual([]);
  });

  it('records the creator and keeps it immutable', () => {
    const created = checkObject(service(one()), config(), { user: 'alice' }).defaulted as {
      metadata: { annotations: Record<string, string> };
    };
    expect(created.metadata.annotations['serving.knative.dev/creator']).toBe('alice');
    expect(created.metadata.annotations['serving.knative.dev/lastModifier']).toBe('alice');
    const tampered = {
      ...created,
      metadata: {
        ...created.metadata,
        annotations: { ...created.metadata.annotations, 'serving.knative.dev/creator': 'mallory' },
      },
    };
    expect(
      checkObject(tampered, config(), { old: created, user: 'bob' }).errors.map((e) => e.message),
    ).toEqual(['annotation value is immutable']);
  });
});
