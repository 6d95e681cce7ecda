// Shared helpers for the end-to-end suites: clients for the cluster under test and polling.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1ConfigMap,
  type V1Container,
  type V1Pod,
  type V1PodSpec,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Service } from '../../src/apis/serving/v1/service-types.ts';
import { Informer } from '../../src/controller/informer.ts';
import { CustomResources, SERVING_SERVICES } from '../../src/controller/kube.ts';
import { reuseConnections } from '../../src/controller/kubeconfig.ts';
import { STATE_DIR, tool } from '../cluster/paths.ts';

export const kubeconfig = process.env.KUBECONFIG ?? `${STATE_DIR}/admin.kubeconfig`;
export const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
reuseConnections(kc);
export const core = kc.makeApiClient(CoreV1Api);
export const apps = kc.makeApiClient(AppsV1Api);
export const discovery = kc.makeApiClient(DiscoveryV1Api);
export const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
export const custom = kc.makeApiClient(CustomObjectsApi);

const run = promisify(execFile);

export async function kubectl(...args: string[]): Promise<string> {
  return (await kubectlOutput(...args)).stdout;
}

/** kubectl's stdout and stderr (where it prints an API server's warnings). */
export async function kubectlOutput(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(tool('kubectl'), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 * 1024 * 1024 });
}

/** Polls `check` until it returns a value (not undefined); fails with the last reason. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${(last as Error).message}`}`);
}

/** The host of a Knative Service's URL once it is Ready at its current generation. */
/** A Service of the autoscale test app that always keeps one pod: a steady target for load while
 * something else (an upgrade, a gateway restart) is being tested. */
export function steadyService(namespace: string, name: string): Service {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      template: {
        metadata: { annotations: { 'autoscaling.knative.dev/min-scale': '1' } },
        spec: { containers: [{ image: 'dev.local/autoscale' }] },
      },
    },
  };
}

export async function readyHost(namespace: string, name: string, timeoutMs = 120_000): Promise<string> {
  const resources = new CustomResources(kc);
  return eventually(
    `Service ${namespace}/${name} Ready`,
    async () => {
      const s = await resources.get<Service>(SERVING_SERVICES, namespace, name);
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      const current = s.status?.observedGeneration === s.metadata.generation;
      return current && ready?.status === 'True' && s.status?.url !== undefined
        ? new URL(s.status.url).host
        : undefined;
    },
    timeoutMs,
  );
}

export async function createNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  await eventually(
    `default ServiceAccount in ${name}`,
    async () =>
      (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })).metadata?.name,
  );
  return name;
}

/**
 * Deletes a namespace and waits until nothing in it runs any more: the namespace is gone, or all
 * that is left is pods on their way out. The Knative objects are deleted first, so that the garbage
 * collector takes their Deployments down at once: Kubernetes deletes a namespace's pods before
 * anything else, and having seen pods with a 300 s grace period (a revision's pod drains for
 * POD_DRAIN_SECONDS before it stops) looks again only after half of it. Waiting for that would add
 * minutes to every test and prove nothing.
 */
export async function deleteNamespace(name: string): Promise<void> {
  await Promise.all(
    ['services', 'configurations', 'routes', 'revisions'].map((plural) =>
      custom
        .deleteCollectionNamespacedCustomObject({
          group: 'serving.knative.dev',
          version: 'v1',
          namespace: name,
          plural,
          propagationPolicy: 'Background',
        })
        .catch(() => undefined),
    ),
  );
  await core.deleteNamespace({ name }).catch(() => undefined);
  await eventually(
    `namespace ${name} to be gone, or to hold only terminating pods`,
    async () => {
      try {
        await core.readNamespace({ name });
      } catch {
        return true;
      }
      const [deployments, pods] = await Promise.all([
        apps.listNamespacedDeployment({ namespace: name }),
        core.listNamespacedPod({ namespace: name }),
      ]);
      const live = (items: { metadata?: { deletionTimestamp?: Date } }[]): number =>
        items.filter((o) => o.metadata?.deletionTimestamp === undefined).length;
      if (live(deployments.items) > 0) throw new Error(`${live(deployments.items)} Deployments not deleted`);
      if (live(pods.items) > 0) throw new Error(`${live(pods.items)} pods not terminating`);
      return true;
    },
    120_000,
  );
}

/** GET over plain HTTP from the host; resolves with status and body. */
export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text() };
}

/** The pods matching `labelSelector` that are Ready and not being deleted. */
export async function readyPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector });
  return pods.items.filter(
    (p) =>
      p.metadata?.deletionTimestamp == null &&
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
  );
}

/** The node is Ready and carries no not-ready or unreachable taint, so pods can be scheduled. */
export async function nodesSchedulable(): Promise<void> {
  await eventually(
    'every node Ready and untainted',
    async () => {
      const nodes = await core.listNode();
      const ok = nodes.items.every(
        (n) =>
          n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' &&
          !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')),
      );
      return ok && nodes.items.length > 0 ? true : undefined;
    },
    120_000,
  );
}

/** An informer on the ConfigMaps labelled e2e=informer in `namespace`. */
export function configMapInformer(
  namespace: string,
  onRestart?: (reason: string) => void,
  resyncMs?: number,
): Informer<V1ConfigMap> {
  return new Informer<V1ConfigMap>(kc, {
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    list: async () => {
      const list = await core.listNamespacedConfigMap({ namespace, labelSelector: 'e2e=informer' });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    labelSelector: 'e2e=informer',
    maxBackoffMs: 1000,
    ...(onRestart === undefined ? {} : { onRestart }),
    ...(resyncMs === undefined ? {} : { resyncMs }),
  });
}

/** A bare Pod `name` in `namespace`: container `main` running dev.local/helloworld, with
 * `container`'s and `spec`'s fields laid over it, and a one-second grace period. */
export async function createTestPod(
  namespace: string,
  name: string,
  container: Partial<V1Container> = {},
  spec: Partial<V1PodSpec> = {},
): Promise<void> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        containers: [{ name: 'main', image: 'dev.local/helloworld', ...container }],
        terminationGracePeriodSeconds: 1,
        ...spec,
      },
    },
  });
}

export const isPodReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
