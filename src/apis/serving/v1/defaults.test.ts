// Table tests of Knative's defaulting, as the mutating webhook and `ebb validate` apply it.
import { describe, expect, it } from '@jest/globals';
import { defaultClusterConfig, clusterConfigFromData } from '../../config/cluster-config.ts';
import type { ValidationContext } from '../validation-context.ts';
import { defaultRevision, defaultRoute, defaultService } from './defaults.ts';
import { Revision } from './revision-types.ts';
import { Route } from './route-types.ts';
import { Service } from './service-types.ts';

const image = 'dev.local/helloworld';

function ctxWith(maps: Record<string, Record<string, string>> = {}): ValidationContext {
  const loaded = clusterConfigFromData(maps);
  expect(loaded.errors).toEqual([]);
  return { config: loaded.config };
}

function svc(spec: unknown, name = 'hello'): Service {
  return Service.parse({ apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name }, spec });
}

describe('Service defaulting', () => {
  it('fills in a single container the way Knative does', () => {
    const out = defaultService(svc({ template: { spec: { containers: [{ image }] } } }), ctxWith());
    expect(out.spec.template.spec).toEqual({
      containers: [
        { name: 'user-container', image, readinessProbe: { tcpSocket: { port: 0 }, successThreshold: 1 } },
      ],
      containerConcurrency: 0,
      timeoutSeconds: 300,
      enableServiceLinks: false,
    });
    expect(out.spec.traffic).toEqual([{ latestRevision: true, percent: 100 }]);
  });

  const cases: [string, unknown, Record<string, Record<string, string>>, (s: Service) => unknown, unknown][] =
    [
      [
        'names several containers user-container-N',
        { template: { spec: { containers: [{ image }, { image }] } } },
        {},
        (s) => s.spec.template.spec?.containers?.map((c) => c.name),
        ['user-container-0', 'user-container-1'],
      ],
      [
        'skips names already taken',
        { template: { spec: { containers: [{ image, name: 'user-container-0' }, { image }] } } },
        {},
        (s) => s.spec.template.spec?.containers?.map((c) => c.name),
        ['user-container-0', 'user-container-1'],
      ],
      [
        'uses the container-name-template',
        { template: { spec: { containers: [{ image }] } } },
        { 'config-defaults': { 'container-name-template': '{{.Name}}-app' } },
        (s) => s.spec.template.spec?.containers?.[0]?.name,
        'hello-app',
      ],
      [
        'takes timeouts and concurrency from config-defaults',
        { template: { spec: { containers: [{ image }] } } },
        {
          'config-defaults': {
            'revision-timeout-seconds': '120',
            'revision-idle-timeout-seconds': '60',
            'revision-response-start-timeout-seconds': '30',
            'container-concurrency': '10',
          },
        },
        (s) => {
          const t = s.spec.template.spec;
          return [
            t?.timeoutSeconds,
            t?.idleTimeoutSeconds,
            t?.responseStartTimeoutSeconds,
            t?.containerConcurrency,
          ];
        },
        [120, 60, 30, 10],
      ],
      [
        'leaves an explicit timeout alone',
        { template: { spec: { timeoutSeconds: 42, containers: [{ image }] } } },
        {},
        (s) => s.spec.template.spec?.timeoutSeconds,
        42,
      ],
      [
        'keeps a user readiness probe and fills its thresholds',
        {
          template: {
            spec: { containers: [{ image, readinessProbe: { httpGet: { path: '/' }, periodSeconds: 5 } }] },
          },
        },
        {},
        (s) => s.spec.template.spec?.containers?.[0]?.readinessProbe,
        {
          httpGet: { path: '/', port: 0 },
          periodSeconds: 5,
          successThreshold: 1,
          failureThreshold: 3,
          timeoutSeconds: 1,
        },
      ],
      [
        'gives only the serving container a readiness probe',
        { template: { spec: { containers: [{ image, ports: [{ containerPort: 8080 }] }, { image }] } } },
        {},
        (s) => s.spec.template.spec?.containers?.map((c) => c.readinessProbe !== undefined),
        [true, false],
      ],
      [
        'makes secret mounts read-only',
        {
          template: {
            spec: {
              containers: [{ image, volumeMounts: [{ name: 's', mountPath: '/s' }] }],
              volumes: [{ name: 's', secret: { secretName: 'x' } }],
            },
          },
        },
        {},
        (s) => s.spec.template.spec?.containers?.[0]?.volumeMounts?.[0]?.readOnly,
        true,
      ],
      [
        'leaves emptyDir mounts writable',
        {
          template: {
            spec: {
              containers: [{ image, volumeMounts: [{ name: 'c', mountPath: '/c' }] }],
              volumes: [{ name: 'c', emptyDir: {} }],
            },
          },
        },
        {},
        (s) => s.spec.template.spec?.containers?.[0]?.volumeMounts?.[0]?.readOnly,
        undefined,
      ],
      [
        'adds resource defaults from config-defaults',
        { template: { spec: { containers: [{ image, resources: { limits: { memory: '1Gi' } } }] } } },
        { 'config-defaults': { 'revision-cpu-request': '100m', 'revision-memory-limit': '200M' } },
        (s) => s.spec.template.spec?.containers?.[0]?.resources,
        { requests: { cpu: '100m' }, limits: { memory: '1Gi' } },
      ],
      [
        'applies secure pod defaults when enabled',
        { template: { spec: { containers: [{ image, ports: [{ containerPort: 80 }] }] } } },
        { 'config-features': { 'secure-pod-defaults': 'Enabled' } },
        (s) => s.spec.template.spec?.containers?.[0]?.securityContext,
        {
          allowPrivilegeEscalation: false,
          seccompProfile: { type: 'RuntimeDefault' },
          capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
          runAsNonRoot: true,
        },
      ],
      [
        'marks each traffic target latest or pinned',
        {
          template: { spec: { containers: [{ image }] } },
          traffic: [{ revisionName: 'hello-1', percent: 50 }, { percent: 50 }],
        },
        {},
        (s) => s.spec.traffic?.map((t) => t.latestRevision),
        [false, true],
      ],
    ];

  it.each(cases)('%s', (_name, spec, maps, pick, expected) => {
    expect(pick(defaultService(svc(spec), ctxWith(maps)))).toEqual(expected);
  });

  it('does not touch a bring-your-own template whose name did not change', () => {
    const spec = { template: { metadata: { name: 'hello-v1' }, spec: { containers: [{ image }] } } };
    const out = defaultService(
      svc(spec),
      { config: defaultClusterConfig() },
      { old: { metadata: {}, spec } },
    );
    expect(out.spec.template.spec).toEqual({ containers: [{ image }] });
  });
});

describe('Route and Revision defaulting', () => {
  it('gives a standalone Route no traffic of its own', () => {
    const route = Route.parse({
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Route',
      metadata: { name: 'r' },
      spec: {},
    });
    expect(defaultRoute(route).spec.traffic).toBeUndefined();
  });

  it('never defaults a Revision on update', () => {
    const rev = Revision.parse({
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Revision',
      metadata: { name: 'r-1' },
      spec: { containers: [{ image }] },
    });
    expect(defaultRevision(rev, { config: defaultClusterConfig() }, { old: rev })).toBe(rev);
    expect(defaultRevision(rev, { config: defaultClusterConfig() }).spec.timeoutSeconds).toBe(300);
  });
});
