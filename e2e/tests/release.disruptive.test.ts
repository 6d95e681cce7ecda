// The ebb release as a user drives it with Helm: an upgrade from the previous chart version
// (0.1.0, whose CRDs came from crds/) through `npm run deploy`; `helm upgrade` to a newer one rolls
// every component while a Service keeps answering, and `helm uninstall` (npm run undeploy) leaves
// nothing of ebb but its CRDs, kept with the Knative objects in them; installing again takes those
// objects up where they were. Disruptive: it upgrades, removes and reinstalls ebb itself, so it
// runs after the other suites, and it leaves ebb installed as `npm run deploy` does.
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crdName, KINDS } from '../../src/apis/crds.ts';
import type { Service } from '../../src/apis/serving/v1/service-types.ts';
import { CustomResources, SERVING_SERVICES } from '../../src/controller/kube.ts';
import { tool } from '../cluster/paths.ts';
import { e2eHelmArgs, installArgs, NAMESPACE, RELEASE } from '../cluster/release.ts';
import { gateway, Load, send, type Gateway } from './dataplane-client.ts';
import {
  apps,
  core,
  createNamespace,
  deleteNamespace,
  eventually,
  kc,
  kubeconfig,
  readyHost,
  steadyService,
} from './kube.ts';

const run = promisify(execFile);

/**
 * Runs helm; when it fails, adds what the release's pods were doing to the error (their state and
 * the last lines of each container's log), which is gone once the suite reinstalls ebb.
 */
async function helm(args: string[]): Promise<void> {
  try {
    await run(tool('helm'), args, {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const lines: string[] = [];
    const pods = await core.listNamespacedPod({ namespace: NAMESPACE }).catch(() => undefined);
    for (const pod of pods?.items ?? []) {
      const name = pod.metadata?.name ?? '';
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '?';
      lines.push(`pod ${name}: phase ${pod.status?.phase ?? '?'}, Ready ${ready}`);
      for (const c of pod.status?.containerStatuses ?? []) {
        const log = await core
          .readNamespacedPodLog({ namespace: NAMESPACE, name, container: c.name, tailLines: 15 })
          .catch((e: unknown) => `(no log: ${(e as Error).message})`);
        lines.push(
          `  ${c.name} (restarts ${c.restartCount}):`,
          ...log
            .trimEnd()
            .split('\n')
            .map((l) => `    ${l}`),
        );
      }
    }
    throw new Error(`${(error as Error).message}\n${lines.join('\n')}`, { cause: error });
  }
}
const CHART = fileURLToPath(new URL('../../charts/ebb', import.meta.url));
/** The chart as released before this one: 0.1.0, with its CRDs in crds/ (`helm package` of it). */
const PREVIOUS_CHART = fileURLToPath(new URL('../fixtures/ebb-0.1.0.tgz', import.meta.url));
const DEPLOY = fileURLToPath(new URL('../cluster/deploy.ts', import.meta.url));
const INSTANCE = `app.kubernetes.io/instance=${RELEASE}`;
const custom = new CustomResources(kc);
const CRDS = KINDS.map(crdName).sort();
let ns = '';
let host = '';
let gw: Gateway | undefined;

/** ebb's image on a cluster other than the local one (see e2e/run.ts). */
const HELM_ARGS = e2eHelmArgs();

/** `npm run deploy` or `npm run undeploy`, as a user runs them; their output stays on the terminal. */
function deploy(command: 'install' | 'uninstall'): number {
  const result = spawnSync(process.execPath, [DEPLOY, command, ...(command === 'install' ? HELM_ARGS : [])], {
    stdio: 'inherit',
    env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  return result.status ?? 1;
}

async function installed(): Promise<boolean> {
  const list = await apps.listNamespacedDeployment({ namespace: NAMESPACE, labelSelector: INSTANCE });
  return list.items.length > 0;
}

beforeAll(async () => {
  ns = await createNamespace('release');
  await custom.create(SERVING_SERVICES, steadyService(ns, 'steady'));
  host = await readyHost(ns, 'steady');
});

afterAll(async () => {
  gw?.agent.destroy();
  // Whatever happened above, leave ebb installed from this checkout for what runs next.
  if (!(await installed().catch(() => false))) deploy('install');
  await deleteNamespace(ns);
});

async function chartLabels(): Promise<(string | undefined)[]> {
  const list = await apps.listNamespacedDeployment({ namespace: NAMESPACE, labelSelector: INSTANCE });
  return [...new Set(list.items.map((d) => d.metadata?.labels?.['helm.sh/chart']))];
}

async function answers(): Promise<number> {
  gw?.agent.destroy();
  gw = await gateway('ebb-gateway', 4);
  const answer = await eventually('steady to answer through the gateway', async () => {
    const a = await send(gw as Gateway, host, '/?sleep=0', 10_000);
    return a.status === 200 ? a : undefined;
  });
  return answer.status;
}

describe('the ebb release', () => {
  it('upgrades from the previous chart version, 0.1.0, whose CRDs came from crds/ without Helm metadata', async () => {
    const current = await apps.readNamespacedDeployment({ namespace: NAMESPACE, name: 'ebb-controller' });
    const image = current.spec?.template.spec?.containers[0]?.image ?? '';
    const tag = image.slice(image.lastIndexOf(':') + 1);
    expect(deploy('uninstall')).toBe(0);
    // As chart 0.1.0 (or `kubectl apply -f crds/`) left them: no Helm labels or annotations.
    const crdApi = kc.makeApiClient(ApiextensionsV1Api);
    for (const name of CRDS) {
      await crdApi.patchCustomResourceDefinition(
        {
          name,
          body: {
            metadata: {
              labels: { 'app.kubernetes.io/managed-by': null },
              annotations: {
                'meta.helm.sh/release-name': null,
                'meta.helm.sh/release-namespace': null,
                'helm.sh/resource-policy': null,
              },
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    await helm(installArgs(PREVIOUS_CHART, [...HELM_ARGS, '--set', `image.tag=${tag}`]));
    expect(await chartLabels()).toEqual(['ebb-0.1.0']);
    expect(await readyHost(ns, 'steady')).toBe(host);

    // What a user of 0.1.0 runs to upgrade: the current chart through `npm run deploy`.
    expect(deploy('install')).toBe(0);
    const version = /^version: (\S+)$/m.exec(await readFile(join(CHART, 'Chart.yaml'), 'utf8'))?.[1];
    expect(await chartLabels()).toEqual([`ebb-${version ?? '?'}`]);
    const crds = await crdApi.listCustomResourceDefinition();
    const kept = crds.items
      .filter((c) => CRDS.includes(c.metadata?.name ?? ''))
      .map((c) => [
        c.metadata?.annotations?.['meta.helm.sh/release-name'],
        c.metadata?.annotations?.['helm.sh/resource-policy'],
      ]);
    expect(kept).toEqual(CRDS.map(() => [RELEASE, 'keep']));
    expect(await answers()).toBe(200);
  }, 300_000);

  it('upgrades to a newer chart version, rolling every component, while a Service keeps answering', async () => {
    // A newer chart: this one with the next patch version and a value that changes every pod.
    const dir = await mkdtemp(join(tmpdir(), 'ebb-chart-'));
    let load: Load | undefined;
    try {
      const chart = join(dir, 'ebb');
      await cp(CHART, chart, { recursive: true });
      const meta = await readFile(join(chart, 'Chart.yaml'), 'utf8');
      const [major = 0, minor = 0, patch = 0] = (/^version: (\S+)$/m.exec(meta)?.[1] ?? '')
        .split(/[.-]/)
        .map(Number);
      const next = `${major}.${minor}.${patch + 1}-e2e`;
      await writeFile(join(chart, 'Chart.yaml'), meta.replace(/^version: .*$/m, `version: ${next}`));
      const current = await apps.readNamespacedDeployment({ namespace: NAMESPACE, name: 'ebb-controller' });
      const image = current.spec?.template.spec?.containers[0]?.image ?? '';
      const tag = image.slice(image.lastIndexOf(':') + 1);

      gw = await gateway('ebb-gateway', 32);
      load = new Load(gw, host, '/?sleep=20', 4);
      await new Promise((r) => setTimeout(r, 1000));
      await helm(
        installArgs(chart, [
          ...HELM_ARGS,
          '--set',
          `image.tag=${tag}`,
          '--set-string',
          'podLabels.ebb-e2e/upgraded=yes',
        ]),
      );
      // helm --wait returned: every Deployment rolled to the new pods, all ready.
      const deployments = await apps.listNamespacedDeployment({
        namespace: NAMESPACE,
        labelSelector: INSTANCE,
      });
      expect(
        deployments.items.map((d) => [
          d.metadata?.name,
          d.metadata?.labels?.['helm.sh/chart'],
          d.spec?.template.metadata?.labels?.['ebb-e2e/upgraded'],
          d.status?.updatedReplicas === d.status?.replicas,
        ]),
      ).toEqual(
        ['ebb-autoscaler', 'ebb-controller', 'ebb-gateway', 'ebb-webhook'].map((n) => [
          n,
          `ebb-${next}`,
          'yes',
          true,
        ]),
      );
      await new Promise((r) => setTimeout(r, 2000));
      const tally = await load.stop();
      expect(tally.total).toBeGreaterThan(0);
      expect({ failed: tally.failed, failures: tally.failures.slice(0, 5) }).toEqual({
        failed: 0,
        failures: [],
      });
    } finally {
      await load?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('uninstalls to nothing but the kept CRDs and the Knative objects in them, and installs again over them', async () => {
    expect(deploy('uninstall')).toBe(0);

    await expect(core.readNamespace({ name: NAMESPACE })).rejects.toMatchObject({ code: 404 });
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    const leftovers = [
      ...(await rbac.listClusterRole({ labelSelector: INSTANCE })).items,
      ...(await rbac.listClusterRoleBinding({ labelSelector: INSTANCE })).items,
      ...(await admission.listMutatingWebhookConfiguration({ labelSelector: INSTANCE })).items,
      ...(await admission.listValidatingWebhookConfiguration({ labelSelector: INSTANCE })).items,
    ].map((o) => o.metadata?.name);
    expect(leftovers).toEqual([]);
    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    const ours = crds.items.map((c) => c.metadata?.name ?? '').filter((n) => CRDS.includes(n));
    expect(ours.sort()).toEqual(CRDS);
    // The user's Service is still there, with its revision; only ebb is gone.
    const steady = await custom.get<Service>(SERVING_SERVICES, ns, 'steady');
    expect(steady.status?.latestReadyRevisionName).toBe('steady-00001');

    expect(deploy('install')).toBe(0);
    expect(await readyHost(ns, 'steady')).toBe(host);
    expect(await answers()).toBe(200);
  }, 300_000);
});
