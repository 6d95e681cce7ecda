// Validation of the Kubernetes PodSpec a Revision embeds: which fields Knative allows (the field
// masks, some behind config-features flags), containers, ports, probes, volumes and security
// context. Paths are relative to the PodSpec; callers prefix them.
import type { Container, ContainerPort, EnvFromSource, Probe, SecurityContext, Volume } from '../core/v1.ts';
import { featureAllows, type FeatureName, type FeaturesConfig } from '../config/features.ts';
import {
  asWarning,
  disallowedFields,
  generic,
  invalidValue,
  missingField,
  missingOneOf,
  multipleOneOf,
  outOfBounds,
  under,
  type FieldError,
} from '../field-error.ts';
import { isImageReference } from '../validation/image-reference.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../validation/names.ts';
import type { RevisionSpec } from './v1/revision-types.ts';

const MAX_INT32 = 2147483647;
export const RESERVED_PORTS = new Set([8012, 8013, 8022, 9090, 9091, 8008]);
export const RESERVED_ENV = ['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION'];
export const RESERVED_CONTAINER_NAME = 'queue-proxy';
const RESERVED_MOUNT_PATHS = new Set(['/', '/dev', '/dev/log']);
export const DEFAULT_PORT = 8080;
export const DEFAULT_PORT_NAME = 'http';

type Mode = 'user' | 'sidecar' | 'init';

/**
 * Set in Go's sense, as Knative's field masks see an object that went through its defaulting
 * webhook (decoded into Go types and encoded again): a pointer field is set whenever it is
 * present, even as false, 0 or "" (an empty object too); an empty list or map is not, since
 * omitempty drops it on the way; any other field is set unless it is its type's zero value.
 */
function isSet(value: unknown, pointer = false): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && !pointer) return Object.keys(value).length > 0;
  return pointer || (value !== false && value !== 0 && value !== '');
}

/** Knative's field masks: every set top-level field that `allowed` does not list. `pointers`
 * names the fields Go declares as pointers (true: all of them). */
function checkMask(
  object: object | undefined,
  allowed: ReadonlySet<string>,
  pointers: ReadonlySet<string> | true = NO_POINTERS,
): FieldError[] {
  if (object === undefined) return [];
  const bad = Object.entries(object)
    .filter(([key, value]) => isSet(value, pointers === true || pointers.has(key)) && !allowed.has(key))
    .map(([key]) => key)
    .sort();
  return bad.length > 0 ? [disallowedFields(...bad)] : [];
}

const NO_POINTERS: ReadonlySet<string> = new Set();
/** corev1.PodSpec's pointer fields. */
const POD_POINTERS: ReadonlySet<string> = new Set([
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'automountServiceAccountToken',
  'hostUsers',
  'shareProcessNamespace',
  'securityContext',
  'affinity',
  'priority',
  'dnsConfig',
  'runtimeClassName',
  'enableServiceLinks',
  'preemptionPolicy',
  'setHostnameAsFQDN',
  'os',
  'hostnameOverride',
  'resources',
]);
/** corev1.Container's pointer fields. */
const CONTAINER_POINTERS: ReadonlySet<string> = new Set([
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'securityContext',
  'restartPolicy',
]);
/** corev1.VolumeMount's pointer fields. */
const VOLUME_MOUNT_POINTERS: ReadonlySet<string> = new Set(['mountPropagation', 'recursiveReadOnly']);

const POD_ALWAYS = ['serviceAccountName', 'containers', 'volumes', 'imagePullSecrets', 'enableServiceLinks'];
const POD_GATED: readonly [string, FeatureName][] = [
  ['affinity', 'kubernetes.podspec-affinity'],
  ['topologySpreadConstraints', 'kubernetes.podspec-topologyspreadconstraints'],
  ['hostAliases', 'kubernetes.podspec-hostaliases'],
  ['nodeSelector', 'kubernetes.podspec-nodeselector'],
  ['runtimeClassName', 'kubernetes.podspec-runtimeclassname'],
  ['tolerations', 'kubernetes.podspec-tolerations'],
  ['shareProcessNamespace', 'kubernetes.podspec-shareprocessnamespace'],
  ['priorityClassName', 'kubernetes.podspec-priorityclassname'],
  ['schedulerName', 'kubernetes.podspec-schedulername'],
  ['initContainers', 'kubernetes.podspec-init-containers'],
  ['dnsPolicy', 'kubernetes.podspec-dnspolicy'],
  ['dnsConfig', 'kubernetes.podspec-dnsconfig'],
  ['hostIPC', 'kubernetes.podspec-hostipc'],
  ['hostPID', 'kubernetes.podspec-hostpid'],
  ['hostNetwork', 'kubernetes.podspec-hostnetwork'],
];

/** The fields of RevisionSpec that are not PodSpec fields. */
const REVISION_FIELDS = [
  'containerConcurrency',
  'timeoutSeconds',
  'responseStartTimeoutSeconds',
  'idleTimeoutSeconds',
];

function podSpecMask(spec: RevisionSpec, features: FeaturesConfig): FieldError[] {
  // automountServiceAccountToken may only be false.
  const allowed = new Set([...POD_ALWAYS, ...REVISION_FIELDS, 'automountServiceAccountToken']);
  for (const [field, flag] of POD_GATED) if (featureAllows(features, flag)) allowed.add(field);
  if (
    featureAllows(features, 'kubernetes.podspec-securitycontext') ||
    features.securePodDefaults !== 'Disabled'
  ) {
    allowed.add('securityContext');
  }
  const errors = checkMask(spec, allowed, POD_POINTERS);
  if (spec.automountServiceAccountToken === true)
    errors.push(disallowedFields('automountServiceAccountToken'));
  return errors;
}

export function validatePodSpec(spec: RevisionSpec, features: FeaturesConfig): FieldError[] {
  const errors: FieldError[] = [...podSpecMask(spec, features)];
  errors.push(...under('securityContext', validatePodSecurityContext(spec.securityContext, features)));
  for (const field of ['containers', 'initContainers'] as const) {
    (spec[field] ?? []).forEach((c, i) => {
      errors.push(
        ...under(
          `${field}[${i}].securityContext`,
          insecureDefaultWarnings(spec.securityContext, c.securityContext, features),
        ),
      );
    });
  }

  const containers = spec.containers ?? [];
  const initContainers = spec.initContainers ?? [];
  const mounted = new Set(
    [...containers, ...initContainers].flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)),
  );
  const volumes = new Map<string, Volume>();
  (spec.volumes ?? []).forEach((volume, i) => {
    errors.push(...under(`volumes[${i}]`, validateVolumeEntry(volume, volumes, mounted, features)));
    // Of two volumes with one name, the mounts see the last (Knative keeps a map by name).
    volumes.set(volume.name, volume);
  });

  if (initContainers.length > 0) {
    if (features.flags['kubernetes.podspec-init-containers'] !== 'Enabled') {
      errors.push(
        generic(
          `pod spec support for init-containers is off, but found ${initContainers.length} init containers`,
          [],
        ),
      );
    } else {
      const regularNames = new Set(containers.map((c) => c.name ?? ''));
      errors.push(
        ...eachContainer(
          initContainers,
          (c) => regularNames.has(c.name ?? ''),
          (c) => validateInitContainer(c, volumes, features),
        ),
      );
    }
  }

  const portCount = containers.reduce((n, c) => n + (c.ports?.length ?? 0), 0);
  if (portCount === 0 && containers.length > 1) errors.push(missingField('containers[*].ports'));
  if (portCount > 1) {
    errors.push(
      generic(
        'more than one container port is set',
        'containers[*].ports',
        'Only a single port is allowed across all containers',
      ),
    );
  }
  const servingPort = [...containers].reverse().find((c) => (c.ports?.length ?? 0) > 0)?.ports?.[0];
  const servingPortName =
    servingPort?.name !== undefined && servingPort.name !== '' ? servingPort.name : DEFAULT_PORT_NAME;

  if (containers.length === 0) {
    errors.push(missingField('containers'));
  } else if (containers.length === 1) {
    errors.push(
      ...under(
        'containers[0]',
        validateContainer(containers[0] ?? {}, 'user', servingPortName, volumes, features),
      ),
    );
  } else if (features.flags['multi-container'] !== 'Enabled') {
    errors.push(generic(`multi-container is off, but found ${containers.length} containers`, []));
  } else {
    const seen = new Set<string>();
    errors.push(
      ...eachContainer(
        containers,
        (c) => {
          const name = c.name ?? '';
          if (seen.has(name)) return true;
          seen.add(name);
          return false;
        },
        (c) =>
          validateContainer(
            c,
            (c.ports?.length ?? 0) > 0 ? 'user' : 'sidecar',
            servingPortName,
            volumes,
            features,
          ),
      ),
    );
  }

  if (spec.serviceAccountName !== undefined && spec.serviceAccountName !== '') {
    for (const message of isDNS1123Subdomain(spec.serviceAccountName)) {
      errors.push(invalidValue(spec.serviceAccountName, 'serviceAccountName', message));
    }
  }
  return errors;
}

/**
 * The errors of a list of containers (regular or init), each under `containers[i]`, with
 * Knative's path for a duplicate name: it adds that error with
 * `errs.Also(duplicate).ViaFieldIndex("containers", i)`, which puts `containers[i]` in front of
 * the errors of every container before it as well (`containers[2].containers[1].image`). The
 * paths follow, so that a user sees what Knative would show.
 */
function eachContainer(
  list: readonly Container[],
  isDuplicate: (c: Container) => boolean,
  validate: (c: Container) => FieldError[],
): FieldError[] {
  let errors: FieldError[] = [];
  list.forEach((c, i) => {
    if (isDuplicate(c)) {
      const duplicate = generic(`duplicate container name ${JSON.stringify(c.name ?? '')}`, 'name');
      errors = under(`containers[${i}]`, [...errors, duplicate]);
    }
    errors.push(...under(`containers[${i}]`, validate(c)));
  });
  return errors;
}

// ---- containers ----

const CONTAINER_ALLOWED = new Set([
  'name',
  'args',
  'command',
  'env',
  'workingDir',
  'envFrom',
  'image',
  'imagePullPolicy',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'ports',
  'resources',
  'securityContext',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'volumeMounts',
]);

function validateInitContainer(
  c: Container,
  volumes: ReadonlyMap<string, Volume>,
  features: FeaturesConfig,
): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const) {
    if (c[field] !== undefined) errors.push(generic('field not allowed in an init container', field));
  }
  errors.push(...validateContainer(c, 'init', DEFAULT_PORT_NAME, volumes, features));
  return errors;
}

function validateContainer(
  c: Container,
  mode: Mode,
  servingPortName: string,
  volumes: ReadonlyMap<string, Volume>,
  features: FeaturesConfig,
): FieldError[] {
  if (Object.entries(c).every(([k, v]) => !isSet(v, CONTAINER_POINTERS.has(k)))) return [missingField('')];
  const errors: FieldError[] = [];
  if (mode === 'user') {
    errors.push(...under('livenessProbe', validateProbe(c.livenessProbe, servingPortName)));
    errors.push(...under('readinessProbe', validateReadinessProbe(c.readinessProbe, servingPortName)));
    errors.push(...under('startupProbe', validateProbe(c.startupProbe, servingPortName)));
  } else if (mode === 'sidecar') {
    for (const field of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      const probe = c[field];
      if (probe === undefined) continue;
      if (features.flags['multi-container-probing'] === 'Enabled') {
        const check = field === 'readinessProbe' ? validateReadinessProbe : validateProbe;
        errors.push(...under(field, check(probe, undefined)));
      } else {
        errors.push(...under(field, sidecarProbeFields(probe)));
      }
    }
  }
  errors.push(...checkMask(c, CONTAINER_ALLOWED, CONTAINER_POINTERS));
  if (c.name === RESERVED_CONTAINER_NAME) {
    errors.push(generic(`${JSON.stringify(RESERVED_CONTAINER_NAME)} is a reserved container name`, 'name'));
  }
  const reserved = mode === 'user' ? RESERVED_ENV : RESERVED_ENV.filter((n) => n !== 'PORT');
  (c.env ?? []).forEach((env, i) => {
    if (env.name === '') errors.push(missingField(`env[${i}].name`));
    else if (reserved.includes(env.name)) {
      errors.push(
        generic(`${JSON.stringify(env.name)} is a reserved environment variable`, `env[${i}].name`),
      );
    }
    const from = env.valueFrom;
    if (from !== undefined && !featureAllows(features, 'kubernetes.podspec-fieldref')) {
      for (const field of ['fieldRef', 'resourceFieldRef'] as const) {
        if (from[field] !== undefined) errors.push(disallowedFields(`env[${i}].valueFrom.${field}`));
      }
    }
    if (from?.fileKeyRef !== undefined) errors.push(disallowedFields(`env[${i}].valueFrom.fileKeyRef`));
  });
  errors.push(...under('envFrom', validateEnvFrom(c.envFrom ?? [])));
  errors.push(...validateImage(c.image));
  const ports = c.ports ?? [];
  for (const port of mode === 'init' ? ports : ports.slice(0, 1)) {
    errors.push(...under('ports', validatePort(port, mode)));
  }
  if ((c.resources?.claims ?? []).length > 0) errors.push(disallowedFields('resources.claims'));
  errors.push(...under('securityContext', validateContainerSecurityContext(c.securityContext, features)));
  if (
    c.terminationMessagePolicy !== undefined &&
    !['', 'File', 'FallbackToLogsOnError'].includes(c.terminationMessagePolicy)
  ) {
    errors.push(invalidValue(c.terminationMessagePolicy, 'terminationMessagePolicy'));
  }
  errors.push(...validateVolumeMounts(c, volumes, features));
  return errors;
}

/**
 * Each source sets exactly one of configMapRef and secretRef. The paths are Knative's: its loop
 * adds a source's refs with `errs.Also(...).ViaIndex(i).ViaField("secretRef")` (and likewise
 * "configMapRef"), which prefixes the errors of the sources before it too, and it reports the
 * one-of errors without the index.
 */
function validateEnvFrom(sources: readonly EnvFromSource[]): FieldError[] {
  let errors: FieldError[] = [];
  sources.forEach((source, i) => {
    if (source.secretRef !== undefined) errors = under('secretRef', under(`[${i}]`, errors));
    if (source.configMapRef !== undefined) errors = under('configMapRef', under(`[${i}]`, errors));
    if (source.configMapRef !== undefined && source.secretRef !== undefined)
      errors.push(multipleOneOf('configMapRef', 'secretRef'));
    else if (source.configMapRef === undefined && source.secretRef === undefined)
      errors.push(missingOneOf('configMapRef', 'secretRef'));
  });
  return errors;
}

function validateImage(image: string | undefined): FieldError[] {
  if (image === undefined || image === '') return [missingField('image')];
  if (!isImageReference(image)) {
    return [
      generic(
        'Failed to parse image reference',
        'image',
        `image: ${JSON.stringify(image)}, error: could not parse reference: ${image}`,
      ),
    ];
  }
  return [];
}

function validatePort(port: ContainerPort, mode: Mode): FieldError[] {
  const errors = checkMask(port, new Set(['containerPort', 'name', 'protocol']));
  const n = port.containerPort;
  if (RESERVED_PORTS.has(n)) {
    errors.push(
      invalidValue(
        `${n} is a reserved port`,
        'containerPort',
        `${n} is a reserved port, please use a different value`,
      ),
    );
  }
  if (n < 0 || n > 65535) errors.push(outOfBounds(n, 0, 65535, 'containerPort'));
  if (mode !== 'init') {
    if (port.protocol !== undefined && port.protocol !== '' && port.protocol !== 'TCP') {
      errors.push(invalidValue(port.protocol, 'protocol'));
    }
    if (port.name !== undefined && !['', 'h2c', 'http1'].includes(port.name)) {
      errors.push(
        generic(`Port name ${port.name} is not allowed`, '', "Name must be empty, or one of: 'h2c', 'http1'"),
      );
    }
  }
  return errors;
}

// ---- probes ----

const PROBE_ALLOWED = new Set([
  'exec',
  'httpGet',
  'tcpSocket',
  'grpc',
  'initialDelaySeconds',
  'timeoutSeconds',
  'periodSeconds',
  'successThreshold',
  'failureThreshold',
  'terminationGracePeriodSeconds',
]);
// In the order Knative checks them, which its paths show (see validateProbe).
const HANDLERS = ['httpGet', 'tcpSocket', 'exec', 'grpc'] as const;
const isHandler = (field: string): boolean => (HANDLERS as readonly string[]).includes(field);
/** corev1.Probe's pointer fields. */
const PROBE_POINTERS: ReadonlySet<string> = new Set([...HANDLERS, 'terminationGracePeriodSeconds']);

/** Without multi-container probing, a sidecar may not have probes: every set field is reported. */
function sidecarProbeFields(probe: Probe): FieldError[] {
  const fields = Object.entries(probe)
    .filter(([k, v]) => isSet(v, k === 'terminationGracePeriodSeconds' || isHandler(k)))
    .map(([k]) => (isHandler(k) ? '' : k));
  return fields.length > 0 ? [disallowedFields(...new Set(fields))] : [];
}

/**
 * A probe's fields, its one handler, and the port an HTTP or TCP check uses. The paths are
 * Knative's: it adds each handler's checks with `errs.Also(...).ViaField(handler)`, which puts the
 * handler's name in front of every error found before it as well, so that with both httpGet and
 * tcpSocket set an httpGet port error reads `tcpSocket.httpGet.port`.
 */
function validateProbe(probe: Probe | undefined, servingPortName: string | undefined): FieldError[] {
  if (probe === undefined) return [];
  let errors = checkMask(probe, PROBE_ALLOWED, PROBE_POINTERS);
  for (const handler of HANDLERS) {
    if (probe[handler] === undefined) continue;
    errors = under(handler, errors);
    if (handler !== 'httpGet' && handler !== 'tcpSocket') continue;
    const port = probe[handler].port;
    const shown = typeof port === 'string' ? port : String(port ?? 0);
    if (servingPortName !== undefined) {
      if (typeof port === 'string' && port !== '' && port !== servingPortName) {
        errors.push(invalidValue(shown, `${handler}.port`, 'Probe port must match container port'));
      }
    } else if (port === undefined || port === '' || port === 0) {
      errors.push(invalidValue(shown, `${handler}.port`, 'Probe port must be specified'));
    }
  }
  const set = HANDLERS.filter((h) => probe[h] !== undefined);
  if (set.length === 0) errors.push(missingOneOf('httpGet', 'tcpSocket', 'exec', 'grpc'));
  if (set.length > 1) errors.push(multipleOneOf(...set.map((h) => (h === 'grpc' ? 'gRPC' : h))));
  return errors;
}

function validateReadinessProbe(probe: Probe | undefined, servingPortName: string | undefined): FieldError[] {
  if (probe === undefined) return [];
  const errors = validateProbe(probe, servingPortName);
  const period = probe.periodSeconds ?? 0;
  if (period < 0) errors.push(outOfBounds(period, 0, MAX_INT32, 'periodSeconds'));
  const delay = probe.initialDelaySeconds ?? 0;
  if (delay < 0) errors.push(outOfBounds(delay, 0, MAX_INT32, 'initialDelaySeconds'));
  const success = probe.successThreshold ?? 0;
  if (success < 1) errors.push(outOfBounds(success, 1, MAX_INT32, 'successThreshold'));
  const timeout = probe.timeoutSeconds ?? 0;
  const failure = probe.failureThreshold ?? 0;
  if (period === 0) {
    if (failure !== 0)
      errors.push(generic('failureThreshold is disallowed when periodSeconds is zero', 'failureThreshold'));
    if (timeout !== 0)
      errors.push(generic('timeoutSeconds is disallowed when periodSeconds is zero', 'timeoutSeconds'));
  } else {
    if (timeout < 1) errors.push(outOfBounds(timeout, 1, MAX_INT32, 'timeoutSeconds'));
    if (failure < 1) errors.push(outOfBounds(failure, 1, MAX_INT32, 'failureThreshold'));
  }
  return errors;
}

// ---- security context ----

/** secure-pod-defaults Enabled or AllowRootBounded: both default and relax alike here. */
function securePodDefaultsOn(features: FeaturesConfig): boolean {
  return features.securePodDefaults === 'Enabled' || features.securePodDefaults === 'AllowRootBounded';
}

function validateContainerSecurityContext(
  sc: SecurityContext | undefined,
  features: FeaturesConfig,
): FieldError[] {
  if (sc === undefined) return [];
  const allowed = new Set([
    'capabilities',
    'readOnlyRootFilesystem',
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'allowPrivilegeEscalation',
    'seccompProfile',
  ]);
  // Every field of a SecurityContext is a pointer; privileged may only be false.
  if (sc.privileged === false) allowed.add('privileged');
  const errors = checkMask(sc, allowed, true);
  const add = sc.capabilities?.add;
  if (
    add !== undefined &&
    add.length > 0 &&
    features.flags['kubernetes.containerspec-addcapabilities'] !== 'Enabled'
  ) {
    // Under secure-pod-defaults, exactly [NET_BIND_SERVICE] may be added; otherwise nothing.
    const onlyBind = add.length === 1 && add[0] === 'NET_BIND_SERVICE';
    if (!(securePodDefaultsOn(features) && onlyBind)) errors.push(disallowedFields('capabilities.add'));
  }
  for (const field of ['runAsUser', 'runAsGroup'] as const) {
    const v = sc[field];
    if (v !== undefined && (v < 0 || v > MAX_INT32)) errors.push(outOfBounds(v, 0, MAX_INT32, field));
  }
  return errors;
}

export const INSECURE_DEFAULT =
  'Kubernetes default value is insecure, Knative may default this to secure in a future release';

/**
 * Knative's warnings for security settings a container leaves at Kubernetes' defaults, which the
 * "restricted" Pod Security profile forbids: runAsNonRoot (container or pod), allowPrivilegeEscalation,
 * seccompProfile (container or pod, and a type), and capabilities with a drop list. A drop list
 * that starts with "all" does nothing and gets its own warning. Settings a user chose, however
 * dangerous, are left alone: these only catch what was never set. Paths are relative to the
 * container's securityContext.
 */
export function insecureDefaultWarnings(
  pod: Record<string, unknown> | undefined,
  container: SecurityContext | undefined,
  features: FeaturesConfig,
): FieldError[] {
  // A cluster that turned secure-pod-defaults on has chosen; Knative warns no more.
  if (securePodDefaultsOn(features)) return [];
  const sc = container ?? {};
  const warn = (path: string): FieldError => asWarning(generic(INSECURE_DEFAULT, path));
  const warnings: FieldError[] = [];
  if (pod?.runAsNonRoot == null && sc.runAsNonRoot === undefined) warnings.push(warn('runAsNonRoot'));
  if (sc.allowPrivilegeEscalation === undefined) warnings.push(warn('allowPrivilegeEscalation'));
  const podSeccomp = pod?.seccompProfile;
  const podSeccompType =
    typeof podSeccomp === 'object' && podSeccomp !== null
      ? (podSeccomp as Record<string, unknown>).type
      : undefined;
  if (sc.seccompProfile === undefined && podSeccomp == null) {
    warnings.push(warn('seccompProfile'));
  } else if ((sc.seccompProfile?.type ?? '') === '' && (podSeccompType ?? '') === '') {
    warnings.push(warn('seccompProfile.type'));
  }
  if (sc.capabilities === undefined) {
    warnings.push(warn('capabilities'));
  } else if (sc.capabilities.drop === undefined) {
    warnings.push(warn('capabilities.drop'));
  } else if (sc.capabilities.drop[0] === 'all') {
    warnings.push(asWarning(invalidValue('all', 'capabilities.drop', "Must be spelled as 'ALL'")));
  }
  return warnings;
}

function validatePodSecurityContext(
  sc: Record<string, unknown> | undefined,
  features: FeaturesConfig,
): FieldError[] {
  if (sc === undefined) return [];
  const allowed = new Set<string>();
  if (featureAllows(features, 'kubernetes.podspec-securitycontext')) {
    for (const f of [
      'runAsUser',
      'runAsGroup',
      'runAsNonRoot',
      'fsGroup',
      'supplementalGroups',
      'seccompProfile',
    ])
      allowed.add(f);
  } else if (securePodDefaultsOn(features)) {
    // Knative's mask keeps the profile's type alone: a localhostProfile beside it is not allowed.
    const profile = sc.seccompProfile as { type?: string; localhostProfile?: string } | undefined;
    const type = profile?.type;
    if ((type === 'RuntimeDefault' || type === 'Unconfined') && profile?.localhostProfile === undefined)
      allowed.add('seccompProfile');
  }
  const errors = checkMask(sc, allowed, true);
  for (const field of ['runAsUser', 'runAsGroup', 'fsGroup']) {
    const v = sc[field];
    if (typeof v === 'number' && (v < 0 || v > MAX_INT32)) errors.push(outOfBounds(v, 0, MAX_INT32, field));
  }
  const groups = sc.supplementalGroups;
  if (Array.isArray(groups)) {
    groups.forEach((g, i) => {
      if (typeof g === 'number' && (g < 0 || g > MAX_INT32))
        errors.push(outOfBounds(g, 0, MAX_INT32, `supplementalGroups[${i}]`));
    });
  }
  return errors;
}

// ---- volumes ----

const VOLUME_SOURCES = [
  'secret',
  'configMap',
  'projected',
  'emptyDir',
  'persistentVolumeClaim',
  'hostPath',
  'csi',
  'ephemeral',
  'image',
] as const;
const GATED_SOURCES: Partial<Record<(typeof VOLUME_SOURCES)[number], [FeatureName, string]>> = {
  emptyDir: ['kubernetes.podspec-volumes-emptydir', 'EmptyDir'],
  hostPath: ['kubernetes.podspec-volumes-hostpath', 'HostPath'],
  csi: ['kubernetes.podspec-volumes-csi', 'CSI'],
  ephemeral: ['kubernetes.podspec-volumes-ephemeral', 'Ephemeral'],
  image: ['kubernetes.podspec-volumes-image', 'Image'],
};

function validateVolumeEntry(
  volume: Volume,
  seen: ReadonlyMap<string, Volume>,
  mounted: ReadonlySet<string>,
  features: FeaturesConfig,
): FieldError[] {
  const errors: FieldError[] = [];
  if (seen.has(volume.name))
    errors.push(generic(`duplicate volume name ${JSON.stringify(volume.name)}`, 'name'));
  if (!mounted.has(volume.name))
    errors.push(generic(`volume with name ${JSON.stringify(volume.name)} not mounted`, 'name'));
  return [...errors, ...validateVolume(volume, features)];
}

function validateVolume(volume: Volume, features: FeaturesConfig): FieldError[] {
  let errors: FieldError[] = [];
  const flags = features.flags;
  const pvc = volume.persistentVolumeClaim;
  if (pvc !== undefined) {
    if (flags['kubernetes.podspec-persistent-volume-claim'] !== 'Enabled') {
      errors.push(
        generic(
          `Persistent volume claim support is disabled, but found persistent volume claim ${pvc.claimName}`,
          [],
        ),
      );
    }
    if (pvc.readOnly !== true && flags['kubernetes.podspec-persistent-volume-write'] !== 'Enabled') {
      errors.push(
        generic(
          `Persistent volume write support is disabled, but found persistent volume claim ${pvc.claimName} that is not read-only`,
          [],
        ),
      );
    }
  }
  for (const [source, [flag, label]] of Object.entries(GATED_SOURCES) as [
    keyof Volume,
    [FeatureName, string],
  ][]) {
    if (volume[source] !== undefined && flags[flag] !== 'Enabled') {
      errors.push(
        generic(`${label} volume support is disabled, but found ${label} volume ${volume.name}`, []),
      );
    }
  }
  if (volume.name === '') errors = [missingField('name')];
  else if (isDNS1123Label(volume.name).length > 0) errors = [invalidValue(volume.name, 'name')];

  const allowed = new Set(['name', 'secret', 'configMap', 'projected']);
  if (featureAllows(features, 'kubernetes.podspec-volumes-emptydir')) allowed.add('emptyDir');
  if (featureAllows(features, 'kubernetes.podspec-persistent-volume-claim'))
    allowed.add('persistentVolumeClaim');
  if (featureAllows(features, 'kubernetes.podspec-volumes-hostpath')) allowed.add('hostPath');
  if (featureAllows(features, 'kubernetes.podspec-volumes-csi')) allowed.add('csi');
  if (featureAllows(features, 'kubernetes.podspec-volumes-ephemeral')) allowed.add('ephemeral');
  if (featureAllows(features, 'kubernetes.podspec-volumes-image')) allowed.add('image');
  // A volume's sources are pointers: an empty one is set.
  errors.push(...checkMask(volume, allowed, true));

  // A secret's or configMap's items are reported under `items`, without the source's name, as
  // Knative reports them.
  for (const source of ['secret', 'configMap'] as const) {
    (volume[source]?.items ?? []).forEach((item, j) => {
      errors.push(...under(`items[${j}]`, validateKeyToPath(item)));
    });
  }
  (volume.projected?.sources ?? []).forEach((projection, j) => {
    const kinds = (['secret', 'configMap', 'serviceAccountToken', 'downwardAPI'] as const).filter(
      (k) => projection[k] !== undefined,
    );
    errors.push(
      ...under(
        `projected[${j}]`,
        checkMask(projection, new Set(['secret', 'configMap', 'serviceAccountToken', 'downwardAPI']), true),
      ),
    );
    if (kinds.length === 0)
      errors.push(
        missingOneOf(
          ...['secret', 'configMap', 'serviceAccountToken', 'downwardAPI'].map((k) => `projected[${j}].${k}`),
        ),
      );
    if (kinds.length > 1) errors.push(multipleOneOf(...kinds.map((k) => `projected[${j}].${k}`)));
    for (const k of ['secret', 'configMap'] as const) {
      const ref = projection[k];
      if (ref === undefined) continue;
      if ((ref.name ?? '') === '') errors.push(missingField(`projected[${j}].${k}.name`));
      (ref.items ?? []).forEach((item, n) => {
        errors.push(...under(`projected[${j}].${k}.items[${n}]`, validateKeyToPath(item)));
      });
    }
    if (projection.serviceAccountToken !== undefined && projection.serviceAccountToken.path === '') {
      errors.push(missingField(`projected[${j}].serviceAccountToken.path`));
    }
    const downward = projection.downwardAPI;
    if (downward !== undefined) {
      errors.push(
        ...under(`projected[${j}].downwardAPI`, checkMask(downward, new Set(['items']))),
        ...under(`projected[${j}].downwardAPI`, validateDownwardAPIItems(downward.items)),
      );
    }
  });
  const image = volume.image;
  if (image !== undefined) errors.push(...under('image', validateImageVolumeSource(image)));
  const medium = volume.emptyDir?.medium;
  if (medium !== undefined && medium !== '' && medium !== 'Memory')
    errors.push(invalidValue(medium, 'emptyDir.medium'));

  const set = VOLUME_SOURCES.filter((s) => volume[s] !== undefined);
  if (set.length === 0) {
    const candidates: string[] = ['secret', 'configMap', 'projected'];
    if (flags['kubernetes.podspec-volumes-emptydir'] === 'Enabled') candidates.push('emptyDir');
    if (flags['kubernetes.podspec-persistent-volume-claim'] === 'Enabled')
      candidates.push('persistentVolumeClaim');
    if (flags['kubernetes.podspec-volumes-hostpath'] === 'Enabled') candidates.push('hostPath');
    if (flags['kubernetes.podspec-volumes-csi'] === 'Enabled') candidates.push('csi');
    if (flags['kubernetes.podspec-volumes-ephemeral'] === 'Enabled') candidates.push('ephemeral');
    if (flags['kubernetes.podspec-volumes-image'] === 'Enabled') candidates.push('image');
    errors.push(missingOneOf(...candidates));
  } else if (set.length > 1) {
    errors.push(multipleOneOf(...set));
  }
  return errors;
}

function validateKeyToPath(item: { key: string; path: string }): FieldError[] {
  const errors: FieldError[] = [];
  if (item.key === '') errors.push(missingField('key'));
  if (item.path === '') errors.push(missingField('path'));
  return errors;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A downwardAPI projection's items (the projection is passed through undecoded). */
function validateDownwardAPIItems(items: unknown): FieldError[] {
  if (!Array.isArray(items)) return [];
  const errors: FieldError[] = [];
  items.forEach((item: unknown, k) => {
    const file = isRecord(item) ? item : {};
    const at = `items[${k}]`;
    errors.push(
      ...under(
        at,
        checkMask(file, new Set(['fieldRef', 'resourceFieldRef', 'path', 'mode']), new Set(['mode'])),
      ),
    );
    const fieldRef = file.fieldRef != null;
    const resourceFieldRef = file.resourceFieldRef != null;
    if (!fieldRef && !resourceFieldRef) errors.push(missingOneOf(`${at}.fieldRef`, `${at}.resourceFieldRef`));
    if (fieldRef && resourceFieldRef)
      errors.push(
        generic('Within a single item, cannot set both', [`${at}.resourceFieldRef`, `${at}.fieldRef`]),
      );
    if (typeof file.path !== 'string' || file.path === '') errors.push(missingField(`${at}.path`));
  });
  return errors;
}

/** An image volume (passed through undecoded): a reference, and a known pull policy. */
function validateImageVolumeSource(image: Record<string, unknown>): FieldError[] {
  const errors = checkMask(image, new Set(['reference', 'pullPolicy']));
  if (typeof image.reference !== 'string' || image.reference === '') errors.push(missingField('reference'));
  const policy = image.pullPolicy;
  if (policy !== undefined && !['IfNotPresent', 'Always', 'Never', ''].includes(policy as string))
    errors.push(invalidValue(typeof policy === 'string' ? policy : JSON.stringify(policy), 'pullPolicy'));
  return errors;
}

function validateVolumeMounts(
  c: Container,
  volumes: ReadonlyMap<string, Volume>,
  features: FeaturesConfig,
): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  (c.volumeMounts ?? []).forEach((mount, i) => {
    const at = (field: string) => `volumeMounts[${i}].${field}`;
    const allowedFields = new Set(['name', 'readOnly', 'mountPath', 'subPath']);
    if (featureAllows(features, 'kubernetes.podspec-volumes-mount-propagation'))
      allowedFields.add('mountPropagation');
    const disallowed = checkMask(mount, allowedFields, VOLUME_MOUNT_POINTERS);
    errors.push(...under(`volumeMounts[${i}]`, disallowed));
    const volume = volumes.get(mount.name);
    if (volume === undefined) errors.push(generic('volumeMount has no matching volume', at('name')));
    const clean = cleanPath(mount.mountPath);
    if (mount.mountPath === '') errors.push(missingField(at('mountPath')));
    else if (RESERVED_MOUNT_PATHS.has(clean))
      errors.push(generic(`mountPath ${JSON.stringify(clean)} is a reserved path`, at('mountPath')));
    else if (!mount.mountPath.startsWith('/')) errors.push(invalidValue(mount.mountPath, at('mountPath')));
    else if (seen.has(clean))
      errors.push(invalidValue(`${JSON.stringify(mount.mountPath)} must be unique`, at('mountPath')));
    seen.add(clean);
    const writable =
      volume?.emptyDir !== undefined ||
      volume?.persistentVolumeClaim !== undefined ||
      volume?.ephemeral !== undefined;
    if (!writable && mount.readOnly !== true) {
      errors.push(generic('volume mount should be readOnly for this type of volume', at('readOnly')));
    }
    if (volume?.persistentVolumeClaim?.readOnly === true && mount.readOnly !== true) {
      errors.push(generic('volume is readOnly but volume mount is not', at('readOnly')));
    }
    if (mount.mountPropagation !== undefined) {
      if (features.flags['kubernetes.podspec-volumes-mount-propagation'] !== 'Enabled') {
        errors.push(
          generic(
            `Volume Mount Propagation support is disabled, but found volume mount ${mount.name} with mount propagation`,
            [],
          ),
        );
      }
      if (!['None', 'HostToContainer'].includes(mount.mountPropagation)) {
        errors.push(
          generic('mount propagation should be set to None or HostToContainer', at('mountPropagation')),
        );
      }
    }
  });
  return errors;
}

/** Go's path.Clean for absolute and relative POSIX paths. */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
    } else out.push(part);
  }
  const joined = out.join('/');
  return absolute ? `/${joined}` : joined === '' ? '.' : joined;
}
