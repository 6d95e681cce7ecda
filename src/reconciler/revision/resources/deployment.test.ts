// Table tests of the Revision → Deployment builder: the whole object for a typical Revision, then
// one field at a time for each rule Knative's deploy.go and meta.go apply.
import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { defaultClusterConfig } from '../../../apis/config/cluster-config.ts';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';
import { makeDeployment, type DeploymentBuildConfig } from './deployment.ts';

function revision(): Revision {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Revision',
    metadata: {
      name: 'hello-00001',
      namespace: 'demo',
      uid: 'rev-uid',
      generation: 1,
      labels: {
        'serving.knative.dev/configuration': 'hello',
        'serving.knative.dev/configurationGeneration': '1',
        'serving.knative.dev/configurationUID': 'cfg-uid',
        'serving.knative.dev/service': 'hello',
        'serving.knative.dev/serviceUID': 'svc-uid',
        'serving.knative.dev/routingState': 'active',
        'serving.knative.dev/route': 'hello',
        'example.com/team': 'web',
      },
      annotations: {
        'serving.knative.dev/creator': 'alice',
        'serving.knative.dev/routingStateModified': '2026-01-01T00:00:00Z',
        'serving.knative.dev/routes': 'hello',
        'serving.knative.dev/lastPinned': '1767225600',
        'serving.knative.dev/no-gc': 'true',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
        'autoscaling.knative.dev/min-scale': '1',
        'example.com/owner': 'web-team',
      },
      ownerReferences: [
        {
          apiVersion: 'serving.knative.dev/v1',
          kind: 'Configuration',
          name: 'hello',
          uid: 'cfg-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containerConcurrency: 0,
      timeoutSeconds: 300,
      enableServiceLinks: false,
      serviceAccountName: 'hello-sa',
      containers: [
        {
          name: 'user-container',
          image: 'ghcr.io/demo/hello:1',
          env: [{ name: 'TARGET', value: 'ebb' }],
          resources: { requests: { cpu: '100m' } },
          readinessProbe: { tcpSocket: {}, successThreshold: 1 },
        },
      ],
    },
  };
}

const config = (): DeploymentBuildConfig => defaultClusterConfig();

const LABELS = {
  app: 'hello-00001',
  'example.com/team': 'web',
  'serving.knative.dev/configuration': 'hello',
  'serving.knative.dev/configurationGeneration': '1',
  'serving.knative.dev/configurationUID': 'cfg-uid',
  'serving.knative.dev/revision': 'hello-00001',
  'serving.knative.dev/revisionUID': 'rev-uid',
  'serving.knative.dev/service': 'hello',
  'serving.knative.dev/serviceUID': 'svc-uid',
};

const KNATIVE_ENV = [
  { name: 'K_REVISION', value: 'hello-00001' },
  { name: 'K_CONFIGURATION', value: 'hello' },
  { name: 'K_SERVICE', value: 'hello' },
];

describe('makeDeployment', () => {
  it('builds the whole Deployment of a typical Revision', () => {
    const want: V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'hello-00001-deployment',
        namespace: 'demo',
        labels: LABELS,
        annotations: { 'example.com/owner': 'web-team', 'serving.knative.dev/creator': 'alice' },
        ownerReferences: [
          {
            apiVersion: 'serving.knative.dev/v1',
            kind: 'Revision',
            name: 'hello-00001',
            uid: 'rev-uid',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'serving.knative.dev/revisionUID': 'rev-uid' } },
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } },
        revisionHistoryLimit: 0,
        template: {
          metadata: {
            labels: LABELS,
            annotations: {
              'example.com/owner': 'web-team',
              'kubectl.kubernetes.io/default-container': 'user-container',
              'serving.knative.dev/creator': 'alice',
            },
          },
          spec: {
            enableServiceLinks: false,
            serviceAccountName: 'hello-sa',
            terminationGracePeriodSeconds: 300,
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: {
                      topologyKey: 'kubernetes.io/hostname',
                      labelSelector: { matchLabels: { 'serving.knative.dev/revision': 'hello-00001' } },
                    },
                  },
                ],
              },
            },
            containers: [
              {
                name: 'user-container',
                image: 'ghcr.io/demo/hello:1',
                env: [{ name: 'PORT', value: '8080' }, ...KNATIVE_ENV, { name: 'TARGET', value: 'ebb' }],
                ports: [{ name: 'user-port', containerPort: 8080, protocol: 'TCP' }],
                resources: { requests: { cpu: '100m' } },
                readinessProbe: { tcpSocket: { port: 8080 }, successThreshold: 1, periodSeconds: 1 },
                terminationMessagePolicy: 'FallbackToLogsOnError',
                // Keeps serving while the gateways see the pod leave (POD_DRAIN_SECONDS).
                lifecycle: { preStop: { sleep: { seconds: 10 } } },
              },
            ],
          },
        },
      },
    };
    expect(makeDeployment(revision(), config())).toStrictEqual(want);
  });

  it('is deterministic and leaves its input alone', () => {
    const rev = revision();
    const before = structuredClone(rev);
    const first = makeDeployment(rev, config());
    expect(rev).toStrictEqual(before);
    expect(makeDeployment(structuredClone(rev), config())).toStrictEqual(first);
  });

  type Case = [
    name: string,
    change: (rev: Revision, cfg: DeploymentBuildConfig) => void,
    pick: (d: V1Deployment) => unknown,
    want: unknown,
  ];
  const container = (d: V1Deployment, i = 0) => d.spec?.template.spec?.containers[i];
  const annotate = (rev: Revision, key: string, value: string) => {
    rev.metadata.annotations = { ...rev.metadata.annotations, [key]: value };
  };
  const cases: Case[] = [
    // ---- replicas ----
    [
      'replicas start at the initial-scale annotation',
      (rev) => {
        annotate(rev, 'autoscaling.knative.dev/initial-scale', '3');
      },
      (d) => d.spec?.replicas,
      3,
    ],
    [
      'the camelCase initialScale alias counts too',
      (rev) => {
        annotate(rev, 'autoscaling.knative.dev/initialScale', '0');
      },
      (d) => d.spec?.replicas,
      0,
    ],
    [
      'replicas start at config-autoscaler initial-scale without the annotation',
      (_rev, cfg) => (cfg.autoscaler.initialScale = 2),
      (d) => d.spec?.replicas,
      2,
    ],
    [
      'min-scale does not raise the initial replicas (the autoscaler applies it)',
      (rev) => {
        annotate(rev, 'autoscaling.knative.dev/min-scale', '5');
      },
      (d) => d.spec?.replicas,
      1,
    ],
    [
      'autoscaling annotations stay off the Deployment and its pods',
      (rev) => {
        annotate(rev, 'autoscaling.knative.dev/initial-scale', '3');
      },
      (d) => [d.metadata?.annotations, d.spec?.template.metadata?.annotations],
      [
        { 'example.com/owner': 'web-team', 'serving.knative.dev/creator': 'alice' },
        {
          'example.com/owner': 'web-team',
          'kubectl.kubernetes.io/default-container': 'user-container',
          'serving.knative.dev/creator': 'alice',
        },
      ],
    ],
    // ---- progress deadline ----
    [
      'progress deadline from the annotation',
      (rev) => {
        annotate(rev, 'serving.knative.dev/progress-deadline', '42s');
      },
      (d) => [
        d.spec?.progressDeadlineSeconds,
        d.metadata?.annotations?.['serving.knative.dev/progress-deadline'],
      ],
      [42, '42s'],
    ],
    [
      'progress deadline from config-deployment, in whole seconds',
      (_rev, cfg) => (cfg.deployment.progressDeadlineMs = 90_500),
      (d) => d.spec?.progressDeadlineSeconds,
      90,
    ],
    // ---- labels ----
    [
      "a user's app label is kept",
      (rev) => (rev.metadata.labels = { ...rev.metadata.labels, app: 'frontend' }),
      (d) => [d.metadata?.labels?.app, d.spec?.template.metadata?.labels?.app],
      ['frontend', 'frontend'],
    ],
    [
      'revision labels cannot be overridden by the user',
      (rev) => (rev.metadata.labels = { ...rev.metadata.labels, 'serving.knative.dev/revision': 'x' }),
      (d) => d.metadata?.labels?.['serving.knative.dev/revision'],
      'hello-00001',
    ],
    // ---- environment ----
    [
      'K_CONFIGURATION and K_SERVICE are empty without their labels',
      (rev) => (rev.metadata.labels = {}),
      (d) => container(d)?.env?.slice(0, 4),
      [
        { name: 'PORT', value: '8080' },
        { name: 'K_REVISION', value: 'hello-00001' },
        { name: 'K_CONFIGURATION', value: '' },
        { name: 'K_SERVICE', value: '' },
      ],
    ],
    // ---- ports and probes ----
    [
      'the declared port becomes user-port, PORT and the probe target',
      (rev) => {
        const c = rev.spec.containers?.[0];
        if (c !== undefined) c.ports = [{ name: 'h2c', containerPort: 9000 }];
      },
      (d) => [container(d)?.ports, container(d)?.env?.[0], container(d)?.readinessProbe?.tcpSocket],
      [
        [{ name: 'user-port', containerPort: 9000, protocol: 'TCP' }],
        { name: 'PORT', value: '9000' },
        { port: 9000 },
      ],
    ],
    [
      'HTTP probes naming the port get its number (the name is gone from the Deployment)',
      (rev) => {
        const c = rev.spec.containers?.[0];
        if (c === undefined) return;
        c.ports = [{ name: 'http1', containerPort: 8081 }];
        c.readinessProbe = {
          httpGet: { path: '/ready', port: 'http1' },
          periodSeconds: 5,
          successThreshold: 1,
        };
        c.livenessProbe = { httpGet: { path: '/live' } };
      },
      (d) => [container(d)?.readinessProbe, container(d)?.livenessProbe],
      [
        { httpGet: { path: '/ready', port: 8081 }, periodSeconds: 5, successThreshold: 1 },
        { httpGet: { path: '/live', port: 8081 } },
      ],
    ],
    [
      'exec probes are left as they are, apart from the 1s period',
      (rev) => {
        const c = rev.spec.containers?.[0];
        if (c !== undefined) c.readinessProbe = { exec: { command: ['/ready'] }, successThreshold: 1 };
      },
      (d) => container(d)?.readinessProbe,
      { exec: { command: ['/ready'] }, successThreshold: 1, periodSeconds: 1 },
    ],
    [
      "the user's terminationMessagePolicy is kept",
      (rev) => {
        const c = rev.spec.containers?.[0];
        if (c !== undefined) c.terminationMessagePolicy = 'File';
      },
      (d) => container(d)?.terminationMessagePolicy,
      'File',
    ],
    // ---- several containers ----
    [
      'a sidecar gets the Knative variables but not PORT, and keeps its ports and probes',
      (rev) => {
        rev.spec.containers = [
          {
            name: 'sidecar',
            image: 'ghcr.io/demo/proxy:1',
            readinessProbe: { tcpSocket: { port: 9901 } },
          },
          { name: 'app', image: 'ghcr.io/demo/hello:1', ports: [{ containerPort: 8888 }] },
        ];
      },
      (d) => [container(d, 0), container(d, 1)?.ports, container(d, 1)?.env?.[0]],
      [
        {
          name: 'sidecar',
          image: 'ghcr.io/demo/proxy:1',
          env: KNATIVE_ENV,
          readinessProbe: { tcpSocket: { port: 9901 } },
          terminationMessagePolicy: 'FallbackToLogsOnError',
        },
        [{ name: 'user-port', containerPort: 8888, protocol: 'TCP' }],
        { name: 'PORT', value: '8888' },
      ],
    ],
    [
      'the default container annotation names the serving container',
      (rev) => {
        rev.spec.containers = [
          { name: 'sidecar', image: 'proxy' },
          { name: 'app', image: 'hello', ports: [{ containerPort: 8888 }] },
        ];
      },
      (d) => d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/default-container'],
      'app',
    ],
    [
      'images stay as the template names them: a digest in the status is what a node ran, not a pin',
      (rev) => {
        rev.spec.initContainers = [{ name: 'init', image: 'ghcr.io/demo/migrate:1' }];
        rev.status = {
          containerStatuses: [{ name: 'user-container', imageDigest: 'ghcr.io/demo/hello@sha256:aa' }],
          initContainerStatuses: [{ name: 'init', imageDigest: 'ghcr.io/demo/migrate@sha256:bb' }],
        };
      },
      (d) => [container(d)?.image, d.spec?.template.spec?.initContainers],
      ['ghcr.io/demo/hello:1', [{ name: 'init', image: 'ghcr.io/demo/migrate:1' }]],
    ],
    [
      'probe schemes in any case become the kubelet\'s HTTP or HTTPS (Knative\'s tests send "http")',
      (rev) => {
        const c = rev.spec.containers?.[0];
        if (c === undefined) return;
        c.readinessProbe = { httpGet: { path: '/', scheme: 'http' } };
        c.livenessProbe = { httpGet: { path: '/', scheme: 'https' } };
      },
      (d) => [container(d)?.readinessProbe?.httpGet?.scheme, container(d)?.livenessProbe?.httpGet?.scheme],
      ['HTTP', 'HTTPS'],
    ],
    // ---- pod-level fields ----
    [
      'the termination grace period is the request timeout',
      (rev) => (rev.spec.timeoutSeconds = 45),
      (d) => d.spec?.template.spec?.terminationGracePeriodSeconds,
      45,
    ],
    [
      'a request timeout shorter than the drain shortens the preStop sleep to fit the grace period',
      (rev) => (rev.spec.timeoutSeconds = 4),
      (d) => [d.spec?.template.spec?.terminationGracePeriodSeconds, container(d)?.lifecycle],
      [4, { preStop: { sleep: { seconds: 4 } } }],
    ],
    [
      'only the serving container drains; sidecars get no hook',
      (rev) => {
        rev.spec.containers = [
          { name: 'app', image: 'ghcr.io/demo/hello:1', ports: [{ containerPort: 8888 }] },
          { name: 'side', image: 'ghcr.io/demo/side:1' },
        ];
      },
      (d) => d.spec?.template.spec?.containers.map((c) => [c.name, c.lifecycle]),
      [
        ['app', { preStop: { sleep: { seconds: 10 } } }],
        ['side', undefined],
      ],
    ],
    [
      'enableServiceLinks set on the Revision is kept',
      (rev) => (rev.spec.enableServiceLinks = true),
      (d) => d.spec?.template.spec?.enableServiceLinks,
      true,
    ],
    [
      'enableServiceLinks falls back to config-defaults ("default" leaves Kubernetes\' own)',
      (rev, cfg) => {
        delete rev.spec.enableServiceLinks;
        if (cfg.defaults !== undefined) cfg.defaults.enableServiceLinks = undefined;
      },
      (d) => d.spec?.template.spec !== undefined && 'enableServiceLinks' in d.spec.template.spec,
      false,
    ],
    [
      'enableServiceLinks is false without config-defaults in hand',
      (rev, cfg) => {
        delete rev.spec.enableServiceLinks;
        delete cfg.defaults;
      },
      (d) => d.spec?.template.spec?.enableServiceLinks,
      false,
    ],
    [
      'no default affinity when config-deployment turns it off',
      (_rev, cfg) => (cfg.deployment.defaultAffinityType = 'none'),
      (d) => d.spec?.template.spec?.affinity,
      undefined,
    ],
    [
      "the Revision's own affinity wins over the default",
      (rev) => (rev.spec.affinity = { nodeAffinity: { x: 1 } }),
      (d) => d.spec?.template.spec?.affinity,
      { nodeAffinity: { x: 1 } },
    ],
    [
      'runtime class: the most specific matching selector',
      (rev, cfg) => {
        rev.metadata.labels = { ...rev.metadata.labels, sandbox: 'strict' };
        cfg.deployment.runtimeClassNames = { gvisor: {}, kata: { selector: { sandbox: 'strict' } } };
      },
      (d) => d.spec?.template.spec?.runtimeClassName,
      'kata',
    ],
    [
      'runtime class: the catch-all when the selector does not match',
      (_rev, cfg) => {
        cfg.deployment.runtimeClassNames = { gvisor: {}, kata: { selector: { sandbox: 'strict' } } };
      },
      (d) => d.spec?.template.spec?.runtimeClassName,
      'gvisor',
    ],
    [
      'runtime class: equally specific classes go to the first name',
      (_rev, cfg) => (cfg.deployment.runtimeClassNames = { runsc: {}, gvisor: {} }),
      (d) => d.spec?.template.spec?.runtimeClassName,
      'gvisor',
    ],
    [
      "runtime class: the Revision's own is kept",
      (rev, cfg) => {
        rev.spec.runtimeClassName = 'mine';
        cfg.deployment.runtimeClassNames = { gvisor: {} };
      },
      (d) => d.spec?.template.spec?.runtimeClassName,
      'mine',
    ],
    [
      'Knative-only spec fields do not reach the PodSpec',
      (rev) => {
        rev.spec.containerConcurrency = 10;
        rev.spec.responseStartTimeoutSeconds = 30;
        rev.spec.idleTimeoutSeconds = 60;
      },
      (d) =>
        [
          'containerConcurrency',
          'timeoutSeconds',
          'responseStartTimeoutSeconds',
          'idleTimeoutSeconds',
        ].filter((k) => d.spec?.template.spec !== undefined && k in d.spec.template.spec),
      [],
    ],
    [
      'a 60-character Revision gets a hashed 63-character Deployment name',
      (rev) => (rev.metadata.name = 'r'.repeat(60)),
      (d) => d.metadata?.name,
      'rrrrrrrrrrrrrrrrrrrrfc58ac6720764672e18f97efd7ef704e-deployment',
    ],
  ];
  it.each(cases)('%s', (_name, change, pick, want) => {
    const rev = revision();
    const cfg = config();
    change(rev, cfg);
    expect(pick(makeDeployment(rev, cfg))).toStrictEqual(want);
  });
});
