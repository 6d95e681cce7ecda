// Table tests of the PodSpec rules a Revision must follow: field masks behind feature flags,
// containers, ports, env, probes, volumes and mounts. Paths are relative to the PodSpec.
import { describe, expect, it } from '@jest/globals';
import { parseFeaturesConfig } from '../config/features.ts';
import { formatFieldError, normalizeErrors, splitLevels } from '../field-error.ts';
import { INSECURE_DEFAULT, validatePodSpec } from './k8s-validation.ts';
import type { RevisionSpec } from './v1/revision-types.ts';

const image = 'dev.local/helloworld';

function check(
  spec: RevisionSpec,
  features: Record<string, string>,
  level: 'error' | 'warning' = 'error',
): string[] {
  const parsed = parseFeaturesConfig(features);
  expect(parsed.errors).toEqual([]);
  const split = splitLevels(normalizeErrors(validatePodSpec(spec, parsed.config)));
  // Errors without their details (the tables name the message); warnings with them.
  if (level === 'error')
    return split.errors.map((e) => formatFieldError({ paths: e.paths, message: e.message }));
  return split.warnings.map((e) => formatFieldError(e));
}

const cases: [string, RevisionSpec, Record<string, string>, string[]][] = [
  ['no containers', { containers: [] }, {}, ['containers: missing field(s)']],
  [
    'terminationGracePeriodSeconds',
    { containers: [{ image }], terminationGracePeriodSeconds: 5 },
    {},
    ['terminationGracePeriodSeconds: must not set the field(s)'],
  ],
  [
    'automountServiceAccountToken true',
    { containers: [{ image }], automountServiceAccountToken: true },
    {},
    ['automountServiceAccountToken: must not set the field(s)'],
  ],
  [
    'automountServiceAccountToken false',
    { containers: [{ image }], automountServiceAccountToken: false },
    {},
    [],
  ],
  [
    'affinity with the flag off',
    { containers: [{ image }], affinity: {} },
    {},
    ['affinity: must not set the field(s)'],
  ],
  [
    'affinity with the flag Allowed',
    { containers: [{ image }], affinity: {} },
    { 'kubernetes.podspec-affinity': 'Allowed' },
    [],
  ],
  [
    'nodeSelector and tolerations with flags on',
    { containers: [{ image }], nodeSelector: { disk: 'ssd' }, tolerations: [{}] },
    { 'kubernetes.podspec-nodeselector': 'enabled', 'kubernetes.podspec-tolerations': 'enabled' },
    [],
  ],
  [
    'container lifecycle',
    { containers: [{ image, lifecycle: {} }] },
    {},
    ['containers[0].lifecycle: must not set the field(s)'],
  ],
  [
    'stdin, tty and lifecycle together',
    { containers: [{ image, stdin: true, tty: true, lifecycle: {} }] },
    {},
    ['containers[0].lifecycle, containers[0].stdin, containers[0].tty: must not set the field(s)'],
  ],
  ['an empty container', { containers: [{}] }, {}, ['containers[0]: missing field(s)']],
  [
    'a container without image',
    { containers: [{ name: 'x' }] },
    {},
    ['containers[0].image: missing field(s)'],
  ],
  [
    'an unparsable image',
    { containers: [{ image: 'UPPER/Case:tag' }] },
    {},
    ['containers[0].image: Failed to parse image reference'],
  ],
  [
    'a bad serviceAccountName',
    { containers: [{ image }], serviceAccountName: 'foo@bar.baz' },
    {},
    ['serviceAccountName: invalid value: foo@bar.baz'],
  ],
  [
    'reserved env PORT',
    { containers: [{ image, env: [{ name: 'PORT', value: '1' }] }] },
    {},
    ['containers[0].env[0].name: "PORT" is a reserved environment variable'],
  ],
  [
    'reserved env K_REVISION',
    { containers: [{ image, env: [{ name: 'K_REVISION', value: '1' }] }] },
    {},
    ['containers[0].env[0].name: "K_REVISION" is a reserved environment variable'],
  ],
  [
    'env fieldRef with the flag off',
    {
      containers: [
        { image, env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] },
      ],
    },
    {},
    ['containers[0].env[0].valueFrom.fieldRef: must not set the field(s)'],
  ],
  [
    'envFrom with both refs',
    { containers: [{ image, envFrom: [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }] }] },
    {},
    ['containers[0].envFrom.configMapRef, containers[0].envFrom.secretRef: expected exactly one, got both'],
  ],
  [
    'container named queue-proxy',
    { containers: [{ image, name: 'queue-proxy' }] },
    {},
    ['containers[0].name: "queue-proxy" is a reserved container name'],
  ],
  [
    'reserved port 8012',
    { containers: [{ image, ports: [{ containerPort: 8012 }] }] },
    {},
    ['containers[0].ports.containerPort: invalid value: 8012 is a reserved port'],
  ],
  [
    'port out of range',
    { containers: [{ image, ports: [{ containerPort: 70000 }] }] },
    {},
    ['containers[0].ports.containerPort: expected 0 <= 70000 <= 65535'],
  ],
  [
    'port name foo',
    { containers: [{ image, ports: [{ name: 'foo', containerPort: 8080 }] }] },
    {},
    ['containers[0].ports: Port name foo is not allowed'],
  ],
  [
    'port protocol UDP',
    { containers: [{ image, ports: [{ protocol: 'UDP', containerPort: 8080 }] }] },
    {},
    ['containers[0].ports.protocol: invalid value: UDP'],
  ],
  [
    'hostPort',
    { containers: [{ image, ports: [{ containerPort: 8080, hostPort: 80 }] }] },
    {},
    ['containers[0].ports.hostPort: must not set the field(s)'],
  ],
  [
    'two ports in one container',
    { containers: [{ image, ports: [{ containerPort: 8080 }, { containerPort: 8081 }] }] },
    {},
    ['containers[*].ports: more than one container port is set'],
  ],
  [
    'multi-container with two ports',
    {
      containers: [
        { name: 'a', image, ports: [{ containerPort: 8888 }] },
        { name: 'b', image, ports: [{ containerPort: 9999 }] },
      ],
    },
    {},
    ['containers[*].ports: more than one container port is set'],
  ],
  [
    'multi-container with no port',
    {
      containers: [
        { image, name: 'a' },
        { image, name: 'b' },
      ],
    },
    {},
    ['containers[*].ports: missing field(s)'],
  ],
  [
    'multi-container when the feature is off',
    { containers: [{ image, ports: [{ containerPort: 8080 }] }, { image }] },
    { 'multi-container': 'Disabled' },
    ['multi-container is off, but found 2 containers'],
  ],
  [
    'duplicate container names',
    {
      containers: [
        { image, name: 'a', ports: [{ containerPort: 8080 }] },
        { image, name: 'a' },
      ],
    },
    {},
    ['containers[1].name: duplicate container name "a"'],
  ],
  [
    'a sidecar using PORT',
    {
      containers: [
        { image, name: 'a', ports: [{ containerPort: 8080 }] },
        { image, name: 'b', env: [{ name: 'PORT', value: '9' }] },
      ],
    },
    {},
    [],
  ],
  [
    'a sidecar with probes when probing is off',
    {
      containers: [
        { image, name: 'a', ports: [{ containerPort: 8080 }] },
        {
          image,
          name: 'b',
          livenessProbe: { timeoutSeconds: 1 },
          readinessProbe: { httpGet: { port: 9999 } },
        },
      ],
    },
    {},
    ['containers[1].livenessProbe.timeoutSeconds, containers[1].readinessProbe: must not set the field(s)'],
  ],
  [
    'init containers with the flag off',
    { containers: [{ image }], initContainers: [{ image }] },
    {},
    [
      'initContainers: must not set the field(s)',
      'pod spec support for init-containers is off, but found 1 init containers',
    ],
  ],
  [
    'an init container with a probe',
    {
      containers: [{ image, name: 'main' }],
      initContainers: [{ image, name: 'init', readinessProbe: { exec: {} } }],
    },
    { 'kubernetes.podspec-init-containers': 'enabled' },
    ['containers[0].readinessProbe: field not allowed in an init container'],
  ],
  [
    'a probe port name that is not the serving port',
    { containers: [{ image, livenessProbe: { tcpSocket: { port: 'imap' } } }] },
    {},
    ['containers[0].livenessProbe.tcpSocket.port: invalid value: imap'],
  ],
  [
    'a probe with no handler',
    { containers: [{ image, livenessProbe: { periodSeconds: 3 } }] },
    {},
    [
      'containers[0].livenessProbe.exec, containers[0].livenessProbe.grpc, containers[0].livenessProbe.httpGet, containers[0].livenessProbe.tcpSocket: expected exactly one, got neither',
    ],
  ],
  [
    'a probe with two handlers',
    { containers: [{ image, readinessProbe: { httpGet: {}, exec: {}, successThreshold: 1 } }] },
    {},
    [
      'containers[0].readinessProbe.exec, containers[0].readinessProbe.httpGet: expected exactly one, got both',
    ],
  ],
  [
    'failureThreshold with periodSeconds 0',
    {
      containers: [
        {
          image,
          readinessProbe: { httpGet: {}, periodSeconds: 0, failureThreshold: 2, successThreshold: 1 },
        },
      ],
    },
    {},
    [
      'containers[0].readinessProbe.failureThreshold: failureThreshold is disallowed when periodSeconds is zero',
    ],
  ],
  [
    'negative readiness numbers',
    {
      containers: [
        {
          image,
          readinessProbe: {
            tcpSocket: {},
            periodSeconds: -1,
            initialDelaySeconds: -1,
            successThreshold: 0,
            timeoutSeconds: 0,
            failureThreshold: 0,
          },
        },
      ],
    },
    {},
    [
      'containers[0].readinessProbe.initialDelaySeconds, containers[0].readinessProbe.periodSeconds: expected 0 <= -1 <= 2147483647',
      'containers[0].readinessProbe.failureThreshold, containers[0].readinessProbe.successThreshold, containers[0].readinessProbe.timeoutSeconds: expected 1 <= 0 <= 2147483647',
    ],
  ],
  [
    // Knative's ProbeMask keeps it.
    'probe terminationGracePeriodSeconds',
    { containers: [{ image, livenessProbe: { tcpSocket: {}, terminationGracePeriodSeconds: 3 } }] },
    {},
    [],
  ],
  [
    'duplicate volume names',
    {
      containers: [{ image, volumeMounts: [{ name: 'v', mountPath: '/a', readOnly: true }] }],
      volumes: [
        { name: 'v', secret: { secretName: 's' } },
        { name: 'v', configMap: { name: 'c' } },
      ],
    },
    {},
    ['volumes[1].name: duplicate volume name "v"'],
  ],
  [
    'a volume nobody mounts',
    { containers: [{ image }], volumes: [{ name: 'v', secret: { secretName: 's' } }] },
    {},
    ['volumes[0].name: volume with name "v" not mounted'],
  ],
  [
    'a mount of an unknown volume',
    { containers: [{ image, volumeMounts: [{ name: 'nope', mountPath: '/x', readOnly: true }] }] },
    {},
    ['containers[0].volumeMounts[0].name: volumeMount has no matching volume'],
  ],
  [
    'a mount at /dev',
    {
      containers: [{ image, volumeMounts: [{ name: 'v', mountPath: '/dev', readOnly: true }] }],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
    {},
    ['containers[0].volumeMounts[0].mountPath: mountPath "/dev" is a reserved path'],
  ],
  [
    'two mounts at one path',
    {
      containers: [
        {
          image,
          volumeMounts: [
            { name: 'v', mountPath: '/m' },
            { name: 'v', mountPath: '/m/' },
          ],
        },
      ],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
    {},
    ['containers[0].volumeMounts[1].mountPath: invalid value: "/m/" must be unique'],
  ],
  [
    'a relative mount path',
    {
      containers: [{ image, volumeMounts: [{ name: 'v', mountPath: 'rel' }] }],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
    {},
    ['containers[0].volumeMounts[0].mountPath: invalid value: rel'],
  ],
  [
    'a writable secret mount',
    {
      containers: [{ image, volumeMounts: [{ name: 'v', mountPath: '/s' }] }],
      volumes: [{ name: 'v', secret: { secretName: 's' } }],
    },
    {},
    ['containers[0].volumeMounts[0].readOnly: volume mount should be readOnly for this type of volume'],
  ],
  [
    'an emptyDir with the flag off',
    {
      containers: [{ image, volumeMounts: [{ name: 'v', mountPath: '/c' }] }],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
    { 'kubernetes.podspec-volumes-emptydir': 'Disabled' },
    [
      'EmptyDir volume support is disabled, but found EmptyDir volume v',
      'volumes[0].emptyDir: must not set the field(s)',
    ],
  ],
  [
    'a writable PVC when only claims are enabled',
    {
      containers: [{ image, volumeMounts: [{ name: 'v', mountPath: '/d' }] }],
      volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'myclaim' } }],
    },
    { 'kubernetes.podspec-persistent-volume-claim': 'enabled' },
    [
      'Persistent volume write support is disabled, but found persistent volume claim myclaim that is not read-only',
    ],
  ],
  [
    'an NFS volume',
    {
      containers: [{ image, volumeMounts: [{ name: 'v', mountPath: '/n', readOnly: true }] }],
      volumes: [{ name: 'v', nfs: {} }],
    },
    {},
    [
      'volumes[0].configMap, volumes[0].emptyDir, volumes[0].projected, volumes[0].secret: expected exactly one, got neither',
      'volumes[0].nfs: must not set the field(s)',
    ],
  ],
  [
    'a volume with two sources',
    {
      containers: [{ image, volumeMounts: [{ name: 'v', mountPath: '/n', readOnly: true }] }],
      volumes: [{ name: 'v', secret: { secretName: 's' }, configMap: { name: 'c' } }],
    },
    {},
    ['volumes[0].configMap, volumes[0].secret: expected exactly one, got both'],
  ],
  [
    'capabilities.add with the flag off',
    { containers: [{ image, securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] },
    {},
    ['containers[0].securityContext.capabilities.add: must not set the field(s)'],
  ],
  [
    'a privileged container',
    { containers: [{ image, securityContext: { privileged: true } }] },
    {},
    ['containers[0].securityContext.privileged: must not set the field(s)'],
  ],
  [
    'a pod securityContext with the flag off',
    { containers: [{ image }], securityContext: { runAsUser: 1000 } },
    {},
    ['securityContext, securityContext.runAsUser: must not set the field(s)'],
  ],
  [
    'a pod securityContext with the flag on',
    { containers: [{ image }], securityContext: { runAsUser: 1000, fsGroup: 2000 } },
    { 'kubernetes.podspec-securitycontext': 'enabled' },
    [],
  ],
];

describe('validatePodSpec', () => {
  it.each(cases)('%s', (_name, spec, features, expected) => {
    expect(check(spec, features)).toEqual(expected);
  });
});

// Knative's insecure-default warnings (k8s_validation.go, warnDefaultContainerSecurityContext):
// fields never set, on each container and init container, with the pod's settings counted.
const c0 = (...fields: string[]): string =>
  `${fields.map((f) => `containers[0].securityContext.${f}`).join(', ')}: ${INSECURE_DEFAULT}`;
const secure = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  seccompProfile: { type: 'RuntimeDefault' },
  capabilities: { drop: ['ALL'] },
};
const withSC = 'kubernetes.podspec-securitycontext';
const warningCases: [string, RevisionSpec, Record<string, string>, string[]][] = [
  [
    'nothing set: all four',
    { containers: [{ image }] },
    {},
    [c0('allowPrivilegeEscalation', 'capabilities', 'runAsNonRoot', 'seccompProfile')],
  ],
  ['all four set: none', { containers: [{ image, securityContext: secure }] }, {}, []],
  [
    'runAsNonRoot false is a choice, not a default',
    { containers: [{ image, securityContext: { ...secure, runAsNonRoot: false } }] },
    {},
    [],
  ],
  [
    'the pod sets runAsNonRoot and seccompProfile for every container',
    {
      containers: [
        { image, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
      ],
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    },
    { [withSC]: 'enabled' },
    [],
  ],
  [
    'a seccompProfile with no type anywhere',
    {
      containers: [{ image, securityContext: { ...secure, seccompProfile: { type: '' } } }],
    },
    {},
    [c0('seccompProfile.type')],
  ],
  [
    'capabilities without drop',
    { containers: [{ image, securityContext: { ...secure, capabilities: {} } }] },
    {},
    [c0('capabilities.drop')],
  ],
  [
    'an empty drop list is set',
    { containers: [{ image, securityContext: { ...secure, capabilities: { drop: [] } } }] },
    {},
    [],
  ],
  [
    'drop "all" does nothing',
    { containers: [{ image, securityContext: { ...secure, capabilities: { drop: ['all'] } } }] },
    {},
    ["containers[0].securityContext.capabilities.drop: invalid value: all (Must be spelled as 'ALL')"],
  ],
  [
    'init containers are warned about under initContainers',
    {
      containers: [{ image, securityContext: secure }],
      initContainers: [
        { image, name: 'init', securityContext: { ...secure, allowPrivilegeEscalation: undefined } },
      ],
    },
    { 'kubernetes.podspec-init-containers': 'enabled' },
    [`initContainers[0].securityContext.allowPrivilegeEscalation: ${INSECURE_DEFAULT}`],
  ],
];

describe('validatePodSpec warnings', () => {
  it.each(warningCases)('%s', (_name, spec, features, expected) => {
    expect(check(spec, features, 'warning')).toEqual(expected);
  });

  it('never turns a warning into an error', () => {
    expect(check({ containers: [{ image }] }, {})).toEqual([]);
  });
});
