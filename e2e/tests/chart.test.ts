// The Helm chart as `helm template` renders it: lint-clean, every pod locked down (non-root,
// read-only root filesystem, no capabilities) and spread over nodes and zones, one ServiceAccount per
// component, no wildcard RBAC, webhooks that fail closed for the Knative kinds, and the optional
// ServiceMonitor and Grafana dashboard wired to the metrics ebb really serves. It needs the helm
// that `npm run cluster:up` builds but no running cluster; it lives here because the unit suite
// runs before that build.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type {
  V1ClusterRole,
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1PodSpec,
  V1Role,
  V1Service,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_FILE, configManifest, renderChart } from '../cluster/config-manifests.ts';
import { tool } from '../cluster/paths.ts';
import { LOCAL_IMAGE, NAMESPACE } from '../cluster/release.ts';
import { queryParts, registeredMetrics, seriesNames, type RegisteredMetric } from './prometheus-metrics.ts';

const run = promisify(execFile);
const chart = fileURLToPath(new URL('../../charts/ebb', import.meta.url));
const source = fileURLToPath(new URL('../../src', import.meta.url));
const helm = tool('helm');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

async function template(...flags: string[]): Promise<Manifest[]> {
  const { stdout } = await run(helm, ['template', 'ebb', chart, '--namespace', NAMESPACE, ...flags], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

function ofKind<T>(manifests: Manifest[], kind: string): (T & Manifest)[] {
  return manifests.filter((m) => m.kind === kind) as (T & Manifest)[];
}

/** The fields of a Prometheus Operator ServiceMonitor the chart sets. */
interface ServiceMonitor {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector?: { matchNames?: string[] };
    endpoints: { port: string; path?: string; interval?: string }[];
  };
}

/** The parts of a Grafana dashboard the chart's test reads. */
interface Dashboard {
  templating: { list: { name: string; type: string; definition?: string }[] };
  panels: {
    title: string;
    datasource?: { uid?: string };
    targets: { expr: string; datasource?: { uid?: string } }[];
  }[];
}

let rendered: Manifest[];

beforeAll(async () => {
  try {
    rendered = await template();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error("no helm: neither the local cluster's build (`npm run cluster:build`) nor helm on PATH", {
      cause: error,
    });
  }
});

/** A container's effective security settings: its own, else the pod's. */
function effective(pod: V1PodSpec, c: V1Container) {
  const p = pod.securityContext ?? {};
  const s = c.securityContext ?? {};
  return {
    runAsNonRoot: s.runAsNonRoot ?? p.runAsNonRoot,
    runAsUser: s.runAsUser ?? p.runAsUser,
    readOnlyRootFilesystem: s.readOnlyRootFilesystem,
    allowPrivilegeEscalation: s.allowPrivilegeEscalation,
    drop: s.capabilities?.drop,
    add: s.capabilities?.add,
    seccomp: (s.seccompProfile ?? p.seccompProfile)?.type,
    privileged: s.privileged,
  };
}

describe('the ebb chart', () => {
  it('passes helm lint --strict', async () => {
    const { stdout } = await run(helm, ['lint', chart, '--strict']);
    expect(stdout).toContain('0 chart(s) failed');
  });

  it('has the appVersion of package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const meta = parse(await readFile(`${chart}/Chart.yaml`, 'utf8')) as { appVersion: string };
    expect(meta.appVersion).toBe(pkg.version);
  });

  it('renders every component, each running its ebb subcommand (the gateway sized by its HPA)', () => {
    const deployments = ofKind<V1Deployment>(rendered, 'Deployment');
    expect(
      deployments.map((d) => [d.metadata.name, d.spec?.replicas, d.spec?.template.spec?.containers[0]?.args]),
    ).toEqual([
      ['ebb-autoscaler', 1, ['autoscaler']],
      ['ebb-controller', 2, ['controller']],
      ['ebb-gateway', undefined, ['gateway']],
      ['ebb-webhook', 1, ['webhook']],
    ]);
  });

  it('locks down every container: non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp', () => {
    const deployments = ofKind<V1Deployment>(rendered, 'Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) {
      const pod = d.spec?.template.spec;
      expect(pod).toBeDefined();
      if (pod === undefined) continue;
      expect(pod.hostNetwork ?? false).toBe(false);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect({ name: `${d.metadata.name}/${c.name}`, ...effective(pod, c) }).toEqual({
          name: `${d.metadata.name}/${c.name}`,
          runAsNonRoot: true,
          runAsUser: 65532,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          drop: ['ALL'],
          add: undefined,
          seccomp: 'RuntimeDefault',
          privileged: undefined,
        });
        expect(c.resources?.requests).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
        expect(c.livenessProbe).toBeDefined();
        expect(c.readinessProbe).toBeDefined();
      }
    }
  });

  it('gives every component its own ServiceAccount, with a token mounted only where the pod asks', () => {
    const deployments = ofKind<V1Deployment>(rendered, 'Deployment');
    const accounts = deployments.map((d) => d.spec?.template.spec?.serviceAccountName);
    expect(new Set(accounts).size).toBe(deployments.length);
    expect(accounts).not.toContain(undefined);
    expect(accounts).not.toContain('default');
    const serviceAccounts = ofKind<{ automountServiceAccountToken?: boolean }>(rendered, 'ServiceAccount');
    expect(serviceAccounts.map((s) => s.metadata.name).sort()).toEqual([...accounts].sort());
    for (const sa of serviceAccounts) expect(sa.automountServiceAccountToken).toBe(false);
  });

  it('grants no wildcard in any Role or ClusterRole', () => {
    const roles = [...ofKind<V1ClusterRole>(rendered, 'ClusterRole'), ...ofKind<V1Role>(rendered, 'Role')];
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        const fields = [...rule.verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])];
        expect({ role: role.metadata.name, wildcards: fields.filter((f) => f.includes('*')) }).toEqual({
          role: role.metadata.name,
          wildcards: [],
        });
        expect(rule.nonResourceURLs).toBeUndefined();
      }
    }
  });

  it('lets the controller renew only its own Lease', () => {
    const role = ofKind<V1Role>(rendered, 'Role').find((r) => r.metadata.name === 'ebb-controller');
    const leaseRules = (role?.rules ?? []).filter((r) => r.resources?.includes('leases'));
    expect(leaseRules.map((r) => [r.verbs, r.resourceNames])).toEqual([
      [['create'], undefined],
      [['get', 'update', 'patch'], ['ebb-controller']],
    ]);
  });

  it('lets the webhook write only its own certificate Secret and webhook configurations, and dry-run Pods', () => {
    const role = ofKind<V1Role>(rendered, 'Role').find((r) => r.metadata.name === 'ebb-webhook');
    const secretRules = (role?.rules ?? []).filter((r) => r.resources?.includes('secrets'));
    expect(secretRules.map((r) => [r.verbs, r.resourceNames])).toEqual([
      [['create'], undefined],
      [['get', 'update'], ['ebb-webhook-certs']],
    ]);
    const clusterRole = ofKind<V1ClusterRole>(rendered, 'ClusterRole').find(
      (r) => r.metadata.name === 'ebb-webhook',
    );
    const configurations = [
      ...ofKind<V1MutatingWebhookConfiguration>(rendered, 'MutatingWebhookConfiguration'),
      ...ofKind<V1ValidatingWebhookConfiguration>(rendered, 'ValidatingWebhookConfiguration'),
    ].map((c) => c.metadata.name);
    expect(
      clusterRole?.rules?.map((r) => [
        r.apiGroups,
        r.resources,
        r.verbs,
        [...(r.resourceNames ?? [])].sort(),
      ]),
    ).toEqual([
      [
        ['admissionregistration.k8s.io'],
        ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
        ['get', 'update', 'patch'],
        [...configurations].sort(),
      ],
      // Knative's dry-run validation of a Service's template; the webhook sends only dryRun=All.
      [[''], ['pods'], ['create'], []],
    ]);
  });

  it('sends every serving.knative.dev write through defaulting and validation, failing closed, with no caBundle', () => {
    const mutating = ofKind<V1MutatingWebhookConfiguration>(rendered, 'MutatingWebhookConfiguration');
    const validating = ofKind<V1ValidatingWebhookConfiguration>(rendered, 'ValidatingWebhookConfiguration');
    const webhooks = [...mutating, ...validating].flatMap((c) =>
      (c.webhooks ?? []).map((webhook) => ({ configuration: c.metadata.name, webhook })),
    );
    const serving = webhooks.filter(({ webhook }) =>
      (webhook.rules ?? []).some((r) => r.apiGroups?.includes('serving.knative.dev')),
    );
    expect(serving.map((w) => [w.configuration, w.webhook.clientConfig.service?.path])).toEqual([
      ['ebb-webhook-defaulting', '/defaulting'],
      ['ebb-webhook-validation', '/validation'],
    ]);
    for (const { webhook: w } of serving) {
      expect(w.failurePolicy).toBe('Fail');
      expect(w.rules?.flatMap((r) => r.resources ?? []).sort()).toEqual([
        'configurations',
        'revisions',
        'routes',
        'services',
      ]);
    }
    for (const { webhook: w } of webhooks) {
      expect(w.sideEffects).toBe('None');
      expect(w.admissionReviewVersions).toEqual(['v1']);
      expect(w.clientConfig.caBundle).toBeUndefined();
      expect(w.clientConfig.service).toMatchObject({ name: 'ebb-webhook', namespace: NAMESPACE, port: 443 });
    }
  });

  it('validates only the config-* ConfigMaps the chart creates, in its own namespace', () => {
    const [config] = ofKind<V1ValidatingWebhookConfiguration>(rendered, 'ValidatingWebhookConfiguration')
      .filter((c) => c.metadata.name === 'ebb-webhook-config-validation')
      .flatMap((c) => c.webhooks ?? []);
    expect(config?.namespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': NAMESPACE } });
    const names = ofKind<V1ConfigMap>(rendered, 'ConfigMap').map((c) => c.metadata.name);
    expect(names.sort()).toEqual([
      'config-autoscaler',
      'config-defaults',
      'config-deployment',
      'config-domain',
      'config-features',
      'config-gc',
      'config-network',
    ]);
    expect(config?.matchConditions?.[0]?.expression).toBe(`object.metadata.name in ${JSON.stringify(names)}`);
  });

  it('gives the gateway an external and an internal Service, and an HPA unless autoscaling is off', async () => {
    const services = (ms: Manifest[]) =>
      ofKind<Manifest>(ms, 'Service')
        .map((s) => s.metadata.name)
        .filter((n) => n.startsWith('ebb-gateway'));
    const hpas = (ms: Manifest[]) =>
      ofKind<Manifest>(ms, 'HorizontalPodAutoscaler').map((h) => h.metadata.name);
    expect(services(rendered)).toEqual(['ebb-gateway', 'ebb-gateway-internal']);
    expect(hpas(rendered)).toEqual(['ebb-gateway']);
    const fixed = await template('--set', 'gateway.autoscaling.enabled=false', '--set', 'gateway.replicas=3');
    expect(hpas(fixed)).toEqual([]);
    const gateway = ofKind<V1Deployment>(fixed, 'Deployment').find((d) => d.metadata.name === 'ebb-gateway');
    expect(gateway?.spec?.replicas).toBe(3);
  });

  it("renders npm run deploy's values: the local image and config-domain example.com", async () => {
    const local = await template(
      '--set',
      `image.repository=${LOCAL_IMAGE.repository}`,
      '--set',
      `image.tag=${LOCAL_IMAGE.tag}`,
      '--set-json',
      'config.domain={"example.com":""}',
    );
    const images = ofKind<V1Deployment>(local, 'Deployment').map(
      (d) => d.spec?.template.spec?.containers[0]?.image,
    );
    expect(images).toEqual(Array(4).fill('dev.local/ebb:dev'));
    const domain = ofKind<V1ConfigMap>(local, 'ConfigMap').find((c) => c.metadata.name === 'config-domain');
    expect(domain?.data).toEqual({ 'example.com': '' });
  });

  it('is what config/ebb.yaml holds for `kubectl apply -f config/` (`npm run generate:config` rewrites it)', async () => {
    const file = await readFile(CONFIG_FILE, 'utf8');
    expect(file).toBe(configManifest(await renderChart()));
    const kinds = parseAllDocuments(file).map((d) => (d.toJS() as Manifest | null)?.kind);
    // The namespace first, before anything that lives in it.
    expect(kinds[0]).toBe('Namespace');
    expect(kinds.filter((k) => k === 'CustomResourceDefinition')).toHaveLength(5);
  });

  it('upgrades the CRDs with the chart and keeps them on uninstall, unless crds.install is false', async () => {
    const crds = ofKind<Manifest & { metadata: { annotations?: Record<string, string> } }>(
      rendered,
      'CustomResourceDefinition',
    );
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      'configurations.serving.knative.dev',
      'podautoscalers.autoscaling.internal.ebb.dev',
      'revisions.serving.knative.dev',
      'routes.serving.knative.dev',
      'services.serving.knative.dev',
    ]);
    for (const crd of crds) expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    expect(ofKind(await template('--set', 'crds.install=false'), 'CustomResourceDefinition')).toEqual([]);
  });

  it("spreads each component's own pods across nodes and zones, without ever blocking scheduling", () => {
    const deployments = ofKind<V1Deployment>(rendered, 'Deployment');
    expect(deployments).toHaveLength(4);
    for (const d of deployments) {
      const own = d.spec?.selector.matchLabels;
      const constraints = d.spec?.template.spec?.topologySpreadConstraints ?? [];
      expect({ deployment: d.metadata.name, constraints }).toEqual({
        deployment: d.metadata.name,
        constraints: [
          {
            topologyKey: 'kubernetes.io/hostname',
            maxSkew: 1,
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: own },
          },
          {
            topologyKey: 'topology.kubernetes.io/zone',
            maxSkew: 1,
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: own },
          },
        ],
      });
      // Its own pods, and no other component's: each component spreads independently.
      for (const other of deployments) {
        const selects = Object.entries(own ?? {}).every(
          ([k, v]) => other.spec?.template.metadata?.labels?.[k] === v,
        );
        expect([d.metadata.name, other.metadata.name, selects]).toEqual([
          d.metadata.name,
          other.metadata.name,
          other === d,
        ]);
      }
    }
  });

  it('takes a list of spread constraints whole, filling in each component as the selector, and none from []', async () => {
    const spread = (ms: Manifest[]) =>
      ofKind<V1Deployment>(ms, 'Deployment').map((d) => [
        d.metadata.name,
        d.spec?.template.spec?.topologySpreadConstraints,
      ]);
    expect(spread(await template('--set-json', 'topologySpreadConstraints=[]'))).toEqual([
      ['ebb-autoscaler', undefined],
      ['ebb-controller', undefined],
      ['ebb-gateway', undefined],
      ['ebb-webhook', undefined],
    ]);
    const custom = await template(
      '--set-json',
      'topologySpreadConstraints=[{"topologyKey":"kubernetes.io/hostname","maxSkew":1,"whenUnsatisfiable":"DoNotSchedule"}]',
    );
    for (const d of ofKind<V1Deployment>(custom, 'Deployment')) {
      expect(d.spec?.template.spec?.topologySpreadConstraints).toEqual([
        {
          topologyKey: 'kubernetes.io/hostname',
          maxSkew: 1,
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: d.spec?.selector.matchLabels },
        },
      ]);
    }
  });

  it('renders no ServiceMonitor, metrics Service or dashboard unless asked', () => {
    expect(ofKind(rendered, 'ServiceMonitor')).toEqual([]);
    expect(ofKind(rendered, 'Service').map((s) => s.metadata.name)).not.toContain('ebb-metrics');
    expect(
      ofKind<V1ConfigMap>(rendered, 'ConfigMap').filter(
        (c) => c.metadata.labels?.grafana_dashboard !== undefined,
      ),
    ).toEqual([]);
  });

  it("scrapes every component's metrics port through the ServiceMonitor's own headless Service", async () => {
    const ms = await template(
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.serviceMonitor.labels.release=prometheus',
    );
    const monitors = ofKind<ServiceMonitor>(ms, 'ServiceMonitor');
    expect(monitors).toHaveLength(1);
    const [monitor] = monitors;
    if (monitor === undefined) return;
    expect(monitor.metadata.labels?.release).toBe('prometheus');
    expect(monitor.spec.endpoints.map((e) => [e.port, e.path, e.interval])).toEqual([
      ['metrics', '/metrics', '30s'],
    ]);
    const namespaces = monitor.spec.namespaceSelector?.matchNames ?? [monitor.metadata.namespace];
    const services = ofKind<V1Service>(ms, 'Service').filter(
      (s) =>
        namespaces.includes(s.metadata.namespace) &&
        Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    expect(services.map((s) => s.metadata.name)).toEqual(['ebb-metrics']);
    const deployments = ofKind<V1Deployment>(ms, 'Deployment');
    const scraped = new Set<string>();
    for (const service of services) {
      expect(service.spec?.clusterIP).toBe('None');
      for (const endpoint of monitor.spec.endpoints) {
        const port = service.spec?.ports?.find((p) => p.name === endpoint.port);
        expect(port?.targetPort).toBe('metrics');
        const selector = Object.entries(service.spec?.selector ?? {});
        expect(selector.length).toBeGreaterThan(0);
        for (const d of deployments) {
          const labels = d.spec?.template.metadata?.labels ?? {};
          if (!selector.every(([k, v]) => labels[k] === v)) continue;
          // The named targetPort must resolve in every pod the Service selects, to the port every
          // component serves /metrics on.
          const containerPorts = (d.spec?.template.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
          expect([
            d.metadata.name,
            containerPorts.find((p) => p.name === port?.targetPort)?.containerPort,
          ]).toEqual([d.metadata.name, 9090]);
          scraped.add(d.metadata.name);
        }
      }
    }
    expect([...scraped].sort()).toEqual(deployments.map((d) => d.metadata.name).sort());
  });

  it('ships the Grafana dashboard for the sidecar, querying only metrics that ebb registers, by their own labels', async () => {
    const ms = await template('--set', 'metrics.dashboard.enabled=true');
    const maps = ofKind<V1ConfigMap>(ms, 'ConfigMap').filter(
      (c) => c.metadata.labels?.grafana_dashboard === '1',
    );
    expect(maps.map((c) => c.metadata.name)).toEqual(['ebb-dashboard']);
    const file = await readFile(`${chart}/dashboards/ebb.json`, 'utf8');
    const dashboard = JSON.parse(maps[0]?.data?.['ebb.json'] ?? '{}') as Dashboard;
    expect(dashboard).toEqual(JSON.parse(file));
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    expect(dashboard.panels.length).toBeLessThanOrEqual(12);

    // Every panel and query reads the data source the user picks.
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    for (const panel of dashboard.panels) {
      for (const ref of [panel.datasource, ...panel.targets.map((t) => t.datasource)]) {
        expect([panel.title, ref?.uid]).toEqual([panel.title, '${datasource}']);
      }
    }

    const metrics = await registeredMetrics(source);
    expect(metrics.size).toBeGreaterThan(0);
    const bySeries = new Map<string, RegisteredMetric>(
      [...metrics.values()].flatMap((m) => seriesNames(m).map((s) => [s, m] as const)),
    );
    const queries = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, query: t.expr }))),
      ...dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => ({ where: `$${v.name}`, query: v.definition ?? '' })),
    ];
    for (const { where, query } of queries) {
      const { selectors, groupingLabels } = queryParts(query);
      expect([where, selectors.length > 0]).toEqual([where, true]);
      const known = selectors.map((s) => ({ series: s.metric, metric: bySeries.get(s.metric) }));
      expect({ where, unknown: known.filter((k) => k.metric === undefined).map((k) => k.series) }).toEqual({
        where,
        unknown: [],
      });
      // A histogram's buckets add `le`; instance is the scrape target, which every series has.
      const labelsOf = (series: string): string[] => [
        ...(bySeries.get(series)?.labels ?? []),
        ...(series.endsWith('_bucket') ? ['le'] : []),
        'instance',
      ];
      for (const s of selectors) {
        expect({
          where,
          series: s.metric,
          labels: s.matchedLabels.filter((l) => !labelsOf(s.metric).includes(l)),
        }).toEqual({ where, series: s.metric, labels: [] });
      }
      const available = new Set(selectors.flatMap((s) => labelsOf(s.metric)));
      expect({ where, labels: groupingLabels.filter((l) => !available.has(l)) }).toEqual({
        where,
        labels: [],
      });
    }
  });

  it.each([
    ['a misspelt key', ['--set', 'controler.replicas=1'], "additional properties 'controler' not allowed"],
    [
      'a number where Knative wants a string',
      ['--set', 'config.gc.min-non-active-revisions=5'],
      'want string',
    ],
    ['no webhook replica', ['--set', 'webhook.replicas=0'], 'minimum'],
    [
      'a misspelt spread constraint field',
      ['--set-json', 'topologySpreadConstraints=[{"topologykey":"kubernetes.io/hostname"}]'],
      "additional properties 'topologykey' not allowed",
    ],
    ['a scrape interval that is no duration', ['--set', 'metrics.serviceMonitor.interval=30'], 'want string'],
  ])('rejects %s', async (_name, flags, message) => {
    await expect(template(...flags)).rejects.toThrow(message);
  });
});
