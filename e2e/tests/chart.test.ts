// The Helm chart as `helm template` renders it: lint-clean, every pod locked down (non-root,
// read-only root filesystem, no capabilities), one ServiceAccount per component, no wildcard RBAC,
// and webhooks that fail closed for the Knative kinds. It needs the helm that `npm run cluster:up`
// builds but no running cluster; it lives here because the unit suite runs before that build.
import { beforeAll, describe, expect, it } from '@jest/globals';
import type {
  V1ClusterRole,
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1PodSpec,
  V1Role,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_FILE, configManifest, renderChart } from '../cluster/config-manifests.ts';
import { binary, pathExists } from '../cluster/paths.ts';
import { LOCAL_IMAGE, NAMESPACE } from '../cluster/release.ts';

const run = promisify(execFile);
const chart = fileURLToPath(new URL('../../charts/ebb', import.meta.url));
const helm = binary('helm');

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

let rendered: Manifest[];

beforeAll(async () => {
  if (!(await pathExists(helm))) {
    throw new Error(`helm is not built (no ${helm}): run \`npm run cluster:build\` first`);
  }
  rendered = await template();
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

  it('lets the webhook write only its own certificate Secret and webhook configurations', () => {
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
    expect(clusterRole?.rules?.map((r) => [...(r.resourceNames ?? [])].sort())).toEqual([
      [...configurations].sort(),
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

  it.each([
    ['a misspelt key', ['--set', 'controler.replicas=1'], "additional properties 'controler' not allowed"],
    [
      'a number where Knative wants a string',
      ['--set', 'config.gc.min-non-active-revisions=5'],
      'want string',
    ],
    ['no webhook replica', ['--set', 'webhook.replicas=0'], 'minimum'],
  ])('rejects %s', async (_name, flags, message) => {
    await expect(template(...flags)).rejects.toThrow(message);
  });
});
