// Generated serving manifests for the property and differential tests of defaulting and
// validation: the project's samples (config/samples), each mutated in one to three places drawn
// from what users get wrong or set unusually: annotations, timeouts, ports, probes, volumes,
// security contexts, traffic blocks and names. A seeded generator makes the same cases every run.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Random } from '../../testing/random.ts';

type Json = Record<string, unknown>;

export interface ManifestCase {
  index: number;
  /** Which sample, and what was done to it: how a failure names the case. */
  description: string;
  manifest: Json;
}

const SAMPLES_DIR = fileURLToPath(new URL('../../../config/samples/', import.meta.url));

/** The serving objects of config/samples, in file order. */
export function samples(): { file: string; manifest: Json }[] {
  const out: { file: string; manifest: Json }[] = [];
  for (const file of readdirSync(SAMPLES_DIR).sort()) {
    if (!file.endsWith('.yaml')) continue;
    for (const doc of parseAllDocuments(readFileSync(`${SAMPLES_DIR}${file}`, 'utf8'))) {
      const value = doc.toJSON() as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        out.push({ file, manifest: value as Json });
      }
    }
  }
  return out;
}

/**
 * A Revision for each Configuration sample (config/samples holds none): its template's spec,
 * named as the Configuration's first Revision and owned by it, as the Configuration reconciler
 * would create it.
 */
function revisionsOf(base: readonly { file: string; manifest: Json }[]): { file: string; manifest: Json }[] {
  return base.flatMap(({ file, manifest }) => {
    if (manifest.kind !== 'Configuration') return [];
    const parent = structuredClone(manifest);
    const name = nameOf(parent);
    const template = obj(obj(parent, 'spec'), 'template');
    const metadata: Json = {
      ...obj(template, 'metadata'),
      name: `${name}-00001`,
      labels: { 'serving.knative.dev/configuration': name },
      ownerReferences: [
        {
          apiVersion: 'serving.knative.dev/v1',
          kind: 'Configuration',
          name,
          uid: `${name}-uid`,
          controller: true,
        },
      ],
    };
    const revision: Json = {
      apiVersion: parent.apiVersion,
      kind: 'Revision',
      metadata,
      spec: obj(template, 'spec'),
    };
    return [{ file, manifest: revision }];
  });
}

function obj(parent: Json, key: string): Json {
  const v = parent[key];
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  const fresh: Json = {};
  parent[key] = fresh;
  return fresh;
}

function list(parent: Json, key: string): Json[] {
  const v = parent[key];
  if (Array.isArray(v)) return v as Json[];
  const fresh: Json[] = [];
  parent[key] = fresh;
  return fresh;
}

/** The revision template's spec, wherever the kind keeps it (undefined for a Route). */
function podSpec(m: Json): Json | undefined {
  const spec = obj(m, 'spec');
  if (m.kind === 'Revision') return spec;
  if (m.kind === 'Route') return undefined;
  return obj(obj(spec, 'template'), 'spec');
}

function templateMeta(m: Json): Json {
  if (m.kind === 'Revision' || m.kind === 'Route') return obj(m, 'metadata');
  return obj(obj(obj(m, 'spec'), 'template'), 'metadata');
}

function container(r: Random, m: Json): Json | undefined {
  const spec = podSpec(m);
  if (spec === undefined) return undefined;
  const cs = list(spec, 'containers');
  if (cs.length === 0) cs.push({ image: 'dev.local/helloworld' });
  return r.pick(cs);
}

const DURATIONS = ['60s', '6s', '1h', '0s', '-5s', 'soon', '10m', '1.5s'];
const NUMBERS = ['0', '1', '-1', '3', '100', 'x', '2.5', ''];

const ANNOTATION_VALUES: Record<string, readonly string[]> = {
  'autoscaling.knative.dev/min-scale': NUMBERS,
  'autoscaling.knative.dev/max-scale': NUMBERS,
  'autoscaling.knative.dev/initial-scale': NUMBERS,
  'autoscaling.knative.dev/target': ['100', '0', '0.5', '-1', 'x'],
  'autoscaling.knative.dev/target-utilization-percentage': ['70', '0', '101', 'x'],
  'autoscaling.knative.dev/window': DURATIONS,
  'autoscaling.knative.dev/panic-window-percentage': ['10', '0', '100', '101', 'x'],
  'autoscaling.knative.dev/panic-threshold-percentage': ['200', '100', '1001', 'x'],
  'autoscaling.knative.dev/scale-down-delay': DURATIONS,
  'autoscaling.knative.dev/scale-to-zero-pod-retention-period': DURATIONS,
  'autoscaling.knative.dev/class': ['kpa.autoscaling.knative.dev', 'hpa.autoscaling.knative.dev', 'other'],
  'autoscaling.knative.dev/metric': ['concurrency', 'rps', 'cpu', 'memory', 'latency'],
  'autoscaling.knative.dev/activation-scale': NUMBERS,
  'autoscaling.knative.dev/target-burst-capacity': ['200', '0', '-1', '-2', 'x'],
  'autoscaling.knative.dev/metric-aggregation-algorithm': ['linear', 'weighted-exponential', 'other'],
  'serving.knative.dev/rollout-duration': DURATIONS,
  'serving.knative.dev/progress-deadline': DURATIONS,
  'features.knative.dev/queueproxy-podinfo': ['enabled', 'disabled', 'x'],
  'queue.sidecar.serving.knative.dev/resource-percentage': ['10', '0.05', '150', 'x', 'NaN', '1e-5'],
  'queue.sidecar.serving.knative.dev/cpu-resource-request': ['100m', '1Gi', 'lots', ''],
  'queue.sidecar.serving.knative.dev/memory-resource-limit': ['128Mi', '1.5G', '-1', 'big'],
  'networking.knative.dev/ingress.class': ['kourier.ingress.networking.knative.dev'],
  'networking.knative.dev/http-protocol': ['redirected', 'enabled'],
  'networking.knative.dev/rollout': ['{}'],
};

function nameOf(m: Json): string {
  const name = obj(m, 'metadata').name;
  return typeof name === 'string' ? name : 'x';
}

type Mutation = (r: Random, m: Json) => string | undefined;

const MUTATIONS: Record<string, Mutation> = {
  templateAnnotation(r, m) {
    if (m.kind === 'Route') return undefined;
    const key = r.pick(Object.keys(ANNOTATION_VALUES));
    const value = r.pick(ANNOTATION_VALUES[key] ?? ['']);
    obj(templateMeta(m), 'annotations')[key] = value;
    return `template annotation ${key}=${JSON.stringify(value)}`;
  },
  objectAnnotation(r, m) {
    const key = r.pick(Object.keys(ANNOTATION_VALUES));
    const value = r.pick(ANNOTATION_VALUES[key] ?? ['']);
    obj(obj(m, 'metadata'), 'annotations')[key] = value;
    return `annotation ${key}=${JSON.stringify(value)}`;
  },
  visibility(r, m) {
    const value = r.pick(['cluster-local', 'public', 'private', '']);
    obj(obj(m, 'metadata'), 'labels')['networking.knative.dev/visibility'] = value;
    return `visibility label ${JSON.stringify(value)}`;
  },
  timeouts(r, m) {
    const spec = podSpec(m);
    if (spec === undefined) return undefined;
    const field = r.pick(['timeoutSeconds', 'responseStartTimeoutSeconds', 'idleTimeoutSeconds']);
    const value = r.pick([0, 1, 10, 300, 600, 601, 3600, -1]);
    spec[field] = value;
    return `${field}: ${value}`;
  },
  concurrency(r, m) {
    const spec = podSpec(m);
    if (spec === undefined) return undefined;
    const value = r.pick([0, 1, 10, 1000, 1001, -1]);
    spec.containerConcurrency = value;
    return `containerConcurrency: ${value}`;
  },
  ports(r, m) {
    const c = container(r, m);
    if (c === undefined) return undefined;
    const port: Json = { containerPort: r.pick([8080, 80, 1, 0, 65535, 65536, -1, 8012, 9090]) };
    if (r.chance(0.5)) port.name = r.pick(['http1', 'h2c', 'web', '']);
    if (r.chance(0.2)) port.protocol = r.pick(['TCP', 'UDP', 'SCTP']);
    if (r.chance(0.1)) port.hostPort = 8080;
    const ports = r.chance(0.2) ? [port, { containerPort: 9000 }] : [port];
    c.ports = ports;
    return `ports ${JSON.stringify(ports)}`;
  },
  probe(r, m) {
    const c = container(r, m);
    if (c === undefined) return undefined;
    const which = r.pick(['readinessProbe', 'livenessProbe', 'startupProbe']);
    const probe: Json = {};
    const handler = r.pick(['tcpSocket', 'httpGet', 'exec', 'grpc', 'two', 'three', 'none']);
    const port = r.pick<unknown>(['unset', 0, 8080, 'http1', 9999, '']);
    const withPort = (action: Json): Json => (port === 'unset' ? action : { ...action, port });
    if (handler === 'tcpSocket' || handler === 'two')
      probe.tcpSocket = withPort(r.chance(0.2) ? { host: 'localhost' } : {});
    if (handler === 'httpGet' || handler === 'two' || handler === 'three') {
      const action = r.pick<Json>([
        { path: '/healthz' },
        { path: '/', scheme: 'HTTP' },
        { path: '/', httpHeaders: [{ name: 'X-Probe', value: '1' }] },
      ]);
      probe.httpGet = withPort(action);
    }
    if (handler === 'exec' || handler === 'three') probe.exec = { command: ['true'] };
    if (handler === 'grpc' || handler === 'three') probe.grpc = { port: r.pick([0, 8080]) };
    for (const field of [
      'periodSeconds',
      'timeoutSeconds',
      'failureThreshold',
      'successThreshold',
      'initialDelaySeconds',
      'terminationGracePeriodSeconds',
    ])
      if (r.chance(0.25)) probe[field] = r.pick([0, 1, 2, -1]);
    c[which] = probe;
    return `${which} ${JSON.stringify(probe)}`;
  },
  volume(r, m) {
    const spec = podSpec(m);
    const c = container(r, m);
    if (spec === undefined || c === undefined) return undefined;
    const name = r.pick(['data', 'config', 'Bad_Name', '']);
    const source = r.pick<Json>([
      { configMap: { name: 'settings' } },
      { secret: { secretName: 'creds' } },
      { secret: { secretName: 'creds', items: [{ key: 'a', path: '' }] } },
      { emptyDir: {} },
      { emptyDir: { medium: r.pick(['Memory', 'Disk']) } },
      { projected: { sources: [{ configMap: { name: 'settings' } }] } },
      {
        projected: {
          sources: [
            r.pick<Json>([
              { secret: { items: [{ key: '', path: 'p' }] } },
              { serviceAccountToken: { path: '' } },
              { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
              { downwardAPI: { items: [{ path: '' }] } },
              { configMap: { name: 'a' }, secret: { name: 'b' } },
              {},
            ]),
          ],
        },
      },
      { persistentVolumeClaim: { claimName: 'claim', readOnly: r.chance(0.5) } },
      { hostPath: { path: '/etc' } },
      { csi: { driver: 'example.csi.k8s.io' } },
      { ephemeral: {} },
      { image: r.pick([{ reference: 'dev.local/data' }, { reference: '' }, { pullPolicy: 'Sometimes' }]) },
      { downwardAPI: { items: [] } },
      { configMap: { name: 'settings' }, emptyDir: {} },
      {},
    ]);
    if (r.chance(0.9)) list(spec, 'volumes').push({ name, ...source });
    const mountPath = r.pick(['/data', '/var/log', 'relative', '/dev/log', '']);
    const mount: Json = { name: r.chance(0.85) ? name : 'missing', mountPath };
    if (r.chance(0.3)) mount.readOnly = r.chance(0.5);
    if (r.chance(0.15)) mount.mountPropagation = r.pick(['', 'None', 'Bidirectional']);
    if (r.chance(0.05)) mount.subPathExpr = '$(POD_NAME)';
    if (r.chance(0.05)) mount.recursiveReadOnly = 'Disabled';
    list(c, 'volumeMounts').push(mount);
    return `volume ${JSON.stringify({ name, ...source })} at ${JSON.stringify(mount)}`;
  },
  securityContext(r, m) {
    const c = container(r, m);
    if (c === undefined) return undefined;
    const sc: Json = {};
    const choices: [string, unknown][] = [
      ['runAsUser', r.pick([1000, 0, -1])],
      ['runAsGroup', r.pick([1000, 0])],
      ['runAsNonRoot', r.chance(0.5)],
      ['privileged', r.chance(0.5)],
      ['readOnlyRootFilesystem', r.chance(0.5)],
      ['allowPrivilegeEscalation', r.chance(0.5)],
      [
        'capabilities',
        r.pick([
          { drop: ['ALL'] },
          { drop: ['all'] },
          { add: ['NET_BIND_SERVICE'] },
          { add: ['NET_ADMIN'] },
          { add: [] },
          { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
        ]),
      ],
      ['seccompProfile', r.pick([{ type: 'RuntimeDefault' }, { type: 'Unconfined' }, { type: '' }])],
      ['procMount', r.pick(['Unmasked', ''])],
      ['seLinuxOptions', {}],
    ];
    for (const [k, v] of choices) if (r.chance(0.3)) sc[k] = v;
    c.securityContext = sc;
    return `securityContext ${JSON.stringify(sc)}`;
  },
  traffic(r, m) {
    if (m.kind !== 'Service' && m.kind !== 'Route') return undefined;
    const targets: Json[] = [];
    const n = 1 + r.int(3);
    for (let i = 0; i < n; i++) {
      const t: Json = {};
      const target = r.pick(['latest', 'revision', 'configuration', 'both', 'none']);
      if (target === 'latest' || target === 'both') t.latestRevision = true;
      if (target === 'revision' || target === 'both') t.revisionName = `${nameOf(m)}-00001`;
      if (target === 'configuration') t.configurationName = 'other';
      if (r.chance(0.8)) t.percent = r.pick([0, 10, 50, 90, 100, 101, -1]);
      if (r.chance(0.4)) t.tag = r.pick(['canary', 'current', 'Bad_Tag', 'canary', '']);
      if (r.chance(0.1)) t.latestRevision = false;
      if (r.chance(0.05)) t.url = 'http://canary.example.com';
      targets.push(t);
    }
    obj(m, 'spec').traffic = targets;
    return `traffic ${JSON.stringify(targets)}`;
  },
  names(r, m) {
    const meta = obj(m, 'metadata');
    const base = typeof meta.name === 'string' ? meta.name : 'x';
    const name = r.pick([`${base}-long-${'x'.repeat(60)}`, 'Hello', 'a.b', '-lead', `${base}2`, 'x']);
    if (r.chance(0.1)) {
      delete meta.name;
      meta.generateName = r.pick([`${base}-`, 'Gen-', '']);
      return `generateName ${JSON.stringify(meta.generateName)}`;
    }
    if (r.chance(0.5) || m.kind === 'Route') {
      meta.name = name;
      return `name ${JSON.stringify(name)}`;
    }
    const t = templateMeta(m);
    const tname = r.pick([`${base}-v2`, 'unrelated', `${base}-UPPER`, `${base}-${'y'.repeat(70)}`]);
    t.name = tname;
    return `template name ${JSON.stringify(tname)}`;
  },
  env(r, m) {
    const c = container(r, m);
    if (c === undefined) return undefined;
    const env = r.pick<Json>([
      { name: 'TARGET', value: 'x' },
      { name: '', value: 'x' },
      { name: 'FROM_FIELD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } },
    ]);
    list(c, 'env').push(env);
    return `env ${JSON.stringify(env)}`;
  },
  containers(r, m) {
    const spec = podSpec(m);
    if (spec === undefined) return undefined;
    const cs = list(spec, 'containers');
    const shape = r.pick(['second', 'none', 'unnamed-pair', 'image-less', 'same-name', 'queue-proxy']);
    if (shape === 'second') cs.push({ name: 'sidecar', image: 'dev.local/echo' });
    if (shape === 'none') spec.containers = [];
    if (shape === 'unnamed-pair')
      spec.containers = [{ image: 'dev.local/echo' }, { image: 'dev.local/echo' }];
    if (shape === 'image-less') cs.push({ name: 'noimage' });
    if (shape === 'same-name') cs.push({ name: 'twin', image: 'dev.local/a' }, { name: 'twin', image: '' });
    if (shape === 'queue-proxy') cs.push({ name: 'queue-proxy', image: 'dev.local/qp' });
    return `containers: ${shape}`;
  },
  owners(r, m) {
    const meta = obj(m, 'metadata');
    const label = m.kind === 'Revision' ? 'serving.knative.dev/configuration' : 'serving.knative.dev/service';
    if (m.kind === 'Service') return undefined;
    const what = r.pick(['label without owner', 'owner of another name', 'no owners']);
    if (what === 'label without owner') {
      obj(meta, 'labels')[label] = 'someone';
      delete meta.ownerReferences;
    } else if (what === 'owner of another name') {
      obj(meta, 'labels')[label] = 'someone';
      meta.ownerReferences = [
        {
          apiVersion: 'serving.knative.dev/v1',
          kind: m.kind === 'Revision' ? 'Configuration' : 'Service',
          name: 'other',
          uid: 'u',
        },
      ];
    } else {
      delete meta.ownerReferences;
    }
    return `owners: ${what}`;
  },
  containerFields(r, m) {
    const c = container(r, m);
    if (c === undefined) return undefined;
    const [field, value] = r.pick<[string, unknown]>([
      ['lifecycle', {}],
      ['stdin', r.chance(0.5)],
      ['tty', false],
      ['restartPolicy', r.pick(['Always', ''])],
      ['terminationMessagePolicy', r.pick(['File', 'FallbackToLogsOnError', 'Bogus'])],
      ['resources', r.pick<Json>([{ limits: { cpu: '1' } }, { claims: [{ name: 'gpu' }] }, {}])],
      ['workingDir', '/app'],
      ['imagePullPolicy', 'Always'],
      ['volumeDevices', []],
      ['image', r.pick(['UPPER/case', 'dev.local/app:v1', 'dev.local/app@sha256:abc', ''])],
    ]);
    c[field] = value;
    return `container ${field}: ${JSON.stringify(value)}`;
  },
  envFrom(r, m) {
    const c = container(r, m);
    if (c === undefined) return undefined;
    const sources: Json[] = [];
    for (let i = 1 + r.int(2); i > 0; i--) {
      sources.push(
        r.pick<Json>([
          { configMapRef: { name: 'settings' } },
          { secretRef: { name: 'creds' }, prefix: 'S_' },
          { configMapRef: { name: 'settings' }, secretRef: { name: 'creds' } },
          { prefix: 'P_' },
        ]),
      );
    }
    c.envFrom = sources;
    return `envFrom ${JSON.stringify(sources)}`;
  },
  podFields(r, m) {
    const spec = podSpec(m);
    if (spec === undefined) return undefined;
    const firstName = (list(spec, 'containers')[0]?.name as string | undefined) ?? 'user-container';
    const [field, value] = r.pick<[string, unknown]>([
      ['shareProcessNamespace', r.chance(0.5)],
      ['runtimeClassName', r.pick(['', 'gvisor'])],
      ['terminationGracePeriodSeconds', r.pick([0, 30])],
      ['activeDeadlineSeconds', 0],
      ['nodeSelector', r.pick([{}, { disk: 'ssd' }])],
      ['tolerations', r.pick([[], [{ key: 'k', operator: 'Exists' }]])],
      ['automountServiceAccountToken', r.chance(0.5)],
      ['enableServiceLinks', r.chance(0.5)],
      ['hostNetwork', r.chance(0.5)],
      ['dnsPolicy', r.pick(['None', 'ClusterFirst'])],
      ['priorityClassName', 'high'],
      ['affinity', {}],
      ['serviceAccountName', r.pick(['builder', 'Bad_SA'])],
      ['imagePullSecrets', [{ name: 'regcred' }]],
      ['restartPolicy', 'Always'],
      [
        'securityContext',
        r.pick<Json>([
          { runAsNonRoot: true },
          { fsGroup: 1000 },
          { seccompProfile: { type: 'RuntimeDefault' } },
          { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } },
          { runAsUser: -1 },
          { supplementalGroups: [1, -1] },
          { sysctls: [] },
        ]),
      ],
      [
        'initContainers',
        r.pick<Json[]>([
          [{ name: 'init', image: 'dev.local/init' }],
          [{ name: firstName, image: 'dev.local/init' }],
          [
            {
              name: 'init',
              image: 'dev.local/init',
              readinessProbe: { tcpSocket: {} },
              ports: [{ containerPort: 8012 }],
            },
          ],
          [
            { name: 'a', image: '' },
            { name: 'a', image: 'dev.local/init', env: [{ name: 'PORT', value: '1' }] },
          ],
          [
            {
              name: 'init',
              image: 'dev.local/init',
              volumeMounts: [{ name: 'init-config', mountPath: '/init' }],
              resources: { limits: { cpu: '1' } },
            },
          ],
        ]),
      ],
    ]);
    spec[field] = value;
    // An init container's mount needs its volume (and is not made read-only by defaulting).
    if (JSON.stringify(value).includes('"init-config"'))
      list(spec, 'volumes').push({ name: 'init-config', configMap: { name: 'settings' } });
    return `${field}: ${JSON.stringify(value)}`;
  },
};

/** `count` cases from `seed`: every sample in turn, each with one to three mutations. */
export function manifestCases(seed: number, count: number): ManifestCase[] {
  const r = new Random(seed);
  const base = [...samples(), ...revisionsOf(samples())];
  const names = Object.keys(MUTATIONS);
  const out: ManifestCase[] = [];
  for (let index = 0; index < count; index++) {
    const sample = base[index % base.length];
    if (sample === undefined) break;
    const manifest = structuredClone(sample.manifest);
    const done: string[] = [];
    const n = 1 + r.int(3);
    for (let i = 0; i < n; i++) {
      const what = MUTATIONS[r.pick(names)]?.(r, manifest);
      if (what !== undefined) done.push(what);
    }
    const kind = typeof manifest.kind === 'string' ? manifest.kind : '?';
    const description = `${sample.file} ${kind}: ${done.join('; ') || 'unchanged'}`;
    out.push({ index, description, manifest });
  }
  return out;
}
