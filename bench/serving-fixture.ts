// What the data-plane benchmarks (bench/dataplane.ts, bench/coldstart.ts) share about the cluster:
// the kubeconfig, a clear message when the cluster or ebb is missing, a namespace of their own,
// Knative Services created and waited for, the gateway's address, and config-autoscaler keys
// borrowed for a run and given back. Nothing here sends load; that is bench/http-load.ts.
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { STATE_DIR } from '../e2e/cluster/paths.ts';
import { API_VERSION, LABELS } from '../src/apis/serving/register.ts';
import { apiMessage, errorCode, SERVING_SERVICES } from '../src/controller/kube.ts';
import { reuseConnections } from '../src/controller/kubeconfig.ts';

export const SYSTEM_NAMESPACE = 'ebb-system';
export const GATEWAY_SERVICE = 'ebb-gateway';
export const AUTOSCALER_CONFIG = 'config-autoscaler';
export const BENCH_LABEL = 'ebb.dev/bench';
export const HELLO_IMAGE = 'dev.local/helloworld';

/** An expected failure: its message is all the user needs, so no stack trace. */
export class Failure extends Error {}

export function describe(error: unknown): string {
  if (error instanceof Failure) return error.message;
  const plain = error instanceof Error ? error.message : String(error);
  const message = errorCode(error) === undefined ? plain : apiMessage(error);
  // fetch reports "fetch failed" and puts the reason in its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  return cause === '' ? message : `${message} (${cause})`;
}

export interface Clients {
  kubeconfig: string;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  discovery: DiscoveryV1Api;
}

export function connect(): Clients {
  const path = process.env.KUBECONFIG ?? join(STATE_DIR, 'admin.kubeconfig');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (error) {
    throw new Failure(
      `cannot read the kubeconfig ${path}: ${describe(error)}. Start the local cluster (npm run cluster:up) or set KUBECONFIG.`,
    );
  }
  reuseConnections(kc);
  return {
    kubeconfig: path,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    discovery: kc.makeApiClient(DiscoveryV1Api),
  };
}

export interface Address {
  address: string;
  port: number;
}

/**
 * The ebb-gateway Service's ClusterIP and port, and the port (number or name) it sends to on the pods. Also the first API call of a run, so it turns
 * "no cluster" and "no ebb" into messages that say what to do.
 */
export async function gatewayAddress(
  c: Clients,
): Promise<Address & { targetPort: number | string | undefined }> {
  let svc;
  try {
    svc = await c.core.readNamespacedService({ name: GATEWAY_SERVICE, namespace: SYSTEM_NAMESPACE });
  } catch (error) {
    if (errorCode(error) === 404) {
      throw new Failure(
        `no Service ${SYSTEM_NAMESPACE}/${GATEWAY_SERVICE}: is ebb installed? Run \`npm run deploy\`.`,
      );
    }
    throw new Failure(
      `cannot reach the API server (KUBECONFIG=${c.kubeconfig}): ${describe(error)}. Is the local cluster up? See \`npm run cluster:status\`.`,
    );
  }
  const address = svc.spec?.clusterIP;
  const port = svc.spec?.ports?.[0]?.port;
  if (address === undefined || address === '' || address === 'None' || port === undefined) {
    throw new Failure(`Service ${SYSTEM_NAMESPACE}/${GATEWAY_SERVICE} has no ClusterIP or port`);
  }
  const target = svc.spec?.ports?.[0]?.targetPort;
  return { address, port, targetPort: target };
}

export async function createNamespace(c: Clients, prefix: string, bench: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  try {
    await c.core.createNamespace({ body: { metadata: { name, labels: { [BENCH_LABEL]: bench } } } });
  } catch (error) {
    throw new Failure(`cannot create namespace ${name}: ${describe(error)}`);
  }
  return name;
}

/**
 * Deletes the namespace and waits until it is gone; resolves with the seconds that took. The
 * Knative objects go first, and the namespace only once their pods are gone: Kubernetes' ordered
 * namespace deletion (1.33+) deletes pods first and, having seen a pod with Knative's 300 s grace
 * period, looks again only after about half of it, however soon the pod leaves.
 */
export async function deleteNamespace(c: Clients, name: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    ['services', 'configurations', 'routes', 'revisions'].map((plural) =>
      c.custom
        .deleteCollectionNamespacedCustomObject({
          group: SERVING_SERVICES.group,
          version: SERVING_SERVICES.version,
          namespace: name,
          plural,
          propagationPolicy: 'Background',
        })
        .catch((error: unknown) => {
          if (errorCode(error) !== 404) throw error;
        }),
    ),
  );
  const podsGone = Date.now() + Math.min(timeoutMs / 2, 60_000);
  while (Date.now() < podsGone && (await c.core.listNamespacedPod({ namespace: name })).items.length > 0) {
    await sleep(500);
  }
  try {
    await c.core.deleteNamespace({ name });
  } catch (error) {
    if (errorCode(error) !== 404) throw error;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await c.core.readNamespace({ name });
    } catch (error) {
      if (errorCode(error) === 404) return (performance.now() - started) / 1000;
      throw error;
    }
    if (Date.now() > deadline) {
      throw new Failure(
        `namespace ${name} still exists after ${Math.round(timeoutMs / 1000)} s; see \`kubectl get namespace ${name} -o yaml\``,
      );
    }
    await sleep(500);
  }
}

/** Creates a Knative Service running `image` with these revision-template annotations. */
export async function createService(
  c: Clients,
  namespace: string,
  name: string,
  annotations: Record<string, string>,
  options: { image?: string; dryRun?: boolean } = {},
): Promise<void> {
  await c.custom.createNamespacedCustomObject({
    group: SERVING_SERVICES.group,
    version: SERVING_SERVICES.version,
    plural: SERVING_SERVICES.plural,
    namespace,
    body: {
      apiVersion: API_VERSION,
      kind: 'Service',
      metadata: { name, namespace },
      spec: {
        template: {
          metadata: { annotations },
          spec: { containers: [{ image: options.image ?? HELLO_IMAGE }] },
        },
      },
    },
    ...(options.dryRun === true ? { dryRun: 'All' } : {}),
  });
}

// Only the fields the benchmarks read; the rest of the object is not checked.
const ServiceView = z.object({
  metadata: z.object({ name: z.string(), generation: z.number().optional() }),
  status: z
    .object({
      observedGeneration: z.number().optional(),
      url: z.string().optional(),
      latestReadyRevisionName: z.string().optional(),
      conditions: z
        .array(
          z.object({
            type: z.string(),
            status: z.string(),
            reason: z.string().optional(),
            message: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

export interface ReadyService {
  name: string;
  /** The host of status.url, which the gateway routes by. */
  host: string;
  revision: string;
}

function readyView(raw: unknown): ReadyService | string {
  const parsed = ServiceView.safeParse(raw);
  if (!parsed.success) return `unexpected object: ${parsed.error.message}`;
  const { metadata, status } = parsed.data;
  const ready = status?.conditions?.find((cond) => cond.type === 'Ready');
  if (status?.observedGeneration !== metadata.generation) return 'generation not yet observed';
  if (ready?.status !== 'True') {
    return ready === undefined
      ? 'no Ready condition'
      : `Ready=${ready.status} ${ready.reason ?? ''} ${ready.message ?? ''}`.trim();
  }
  if (status?.url === undefined || status.latestReadyRevisionName === undefined) {
    return 'Ready without status.url or latestReadyRevisionName';
  }
  return { name: metadata.name, host: new URL(status.url).host, revision: status.latestReadyRevisionName };
}

/** Polls the Services of `namespace` until every one of `names` is Ready. */
export async function waitReady(
  c: Clients,
  namespace: string,
  names: string[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Map<string, ReadyService>> {
  const deadline = Date.now() + timeoutMs;
  const ready = new Map<string, ReadyService>();
  const why = new Map<string, string>();
  for (;;) {
    const list = (await c.custom.listNamespacedCustomObject({
      group: SERVING_SERVICES.group,
      version: SERVING_SERVICES.version,
      plural: SERVING_SERVICES.plural,
      namespace,
    })) as { items?: unknown[] };
    for (const item of list.items ?? []) {
      const view = readyView(item);
      const name = ServiceView.safeParse(item).data?.metadata.name ?? '?';
      if (typeof view === 'string') why.set(name, view);
      else ready.set(name, view);
    }
    if (names.every((n) => ready.has(n))) return ready;
    if (Date.now() > deadline) {
      const pending = names
        .filter((n) => !ready.has(n))
        .slice(0, 5)
        .map((n) => `  ${namespace}/${n}: ${why.get(n) ?? 'not found'}`);
      throw new Failure(
        `Services not Ready after ${Math.round(timeoutMs / 1000)} s:\n${pending.join('\n')}\nSee \`kubectl -n ${SYSTEM_NAMESPACE} logs deploy/ebb-controller\`.`,
      );
    }
    await sleep(250, undefined, { signal });
  }
}

export interface PodEndpoint {
  pod: string;
  address: string;
  port: number;
}

/** The ready pods of a revision, from the EndpointSlices labelled with it. */
export async function revisionEndpoints(
  c: Clients,
  namespace: string,
  revision: string,
): Promise<PodEndpoint[]> {
  const slices = await c.discovery.listNamespacedEndpointSlice({
    namespace,
    labelSelector: `${LABELS.revision}=${revision}`,
  });
  const found = new Map<string, PodEndpoint>();
  for (const slice of slices.items) {
    const port = slice.ports?.find((p) => p.name === 'http')?.port ?? slice.ports?.[0]?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses[0];
      if (ep.conditions?.ready !== true || address === undefined) continue;
      found.set(`${address}:${port}`, { pod: ep.targetRef?.name ?? '?', address, port });
    }
  }
  return [...found.values()];
}

/** The pods of a revision not yet gone (Pending or Running), with their IPs once they have one. */
export async function revisionPods(
  c: Clients,
  namespace: string,
  revision: string,
): Promise<{ name: string; ip: string }[]> {
  const pods = await c.core.listNamespacedPod({ namespace, labelSelector: `${LABELS.revision}=${revision}` });
  return pods.items
    .filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase !== 'Succeeded')
    .map((p) => ({ name: p.metadata?.name ?? '?', ip: p.status?.podIP ?? '' }));
}

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
  ip: string;
}

/** The Running pods of one of ebb's components (gateway, autoscaler, ...). */
export async function componentPods(c: Clients, component: string): Promise<PodIdentity[]> {
  const pods = await c.core.listNamespacedPod({
    namespace: SYSTEM_NAMESPACE,
    labelSelector: `app.kubernetes.io/component=${component}`,
  });
  return pods.items
    .filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined)
    .map((p) => ({
      namespace: SYSTEM_NAMESPACE,
      name: p.metadata?.name ?? '',
      uid: p.metadata?.uid ?? '',
      ip: p.status?.podIP ?? '',
    }));
}

export async function podIdentity(c: Clients, namespace: string, name: string): Promise<PodIdentity> {
  const pod = await c.core.readNamespacedPod({ namespace, name });
  return { namespace, name, uid: pod.metadata?.uid ?? '', ip: pod.status?.podIP ?? '' };
}

/**
 * Sets keys of config-autoscaler; resolves with what gives their previous values back (only those
 * keys, so a concurrent edit of another key survives), or undefined when nothing changed.
 */
export async function borrowAutoscalerConfig(
  c: Clients,
  values: Record<string, string>,
): Promise<{ restore: () => Promise<void>; previous: Record<string, string | null> } | undefined> {
  let data: Record<string, string>;
  try {
    const cm = await c.core.readNamespacedConfigMap({ name: AUTOSCALER_CONFIG, namespace: SYSTEM_NAMESPACE });
    data = cm.data ?? {};
  } catch (error) {
    throw new Failure(`cannot read ConfigMap ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG}: ${describe(error)}`);
  }
  const previous: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(values)) {
    if (data[key] !== value) previous[key] = data[key] ?? null;
  }
  if (Object.keys(previous).length === 0) return undefined;
  const patch = (body: Record<string, string | null>) =>
    c.core.patchNamespacedConfigMap(
      { name: AUTOSCALER_CONFIG, namespace: SYSTEM_NAMESPACE, body: { data: body } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  try {
    await patch(values);
  } catch (error) {
    throw new Failure(`cannot patch ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG}: ${describe(error)}`);
  }
  return { restore: () => patch(previous).then(() => undefined), previous };
}

export interface Machine {
  cpus: number;
  model: string;
  memoryGiB: number;
  node: string;
  /** The 1-minute load average when the run ended: other work on the machine shows here. */
  loadAverage: number;
}

export function machine(): Machine {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: Number((loadavg()[0] ?? 0).toFixed(2)),
  };
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** A Markdown table, its columns padded to line up in a terminal too. */
export function markdownTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const width = header.map((_, i) => Math.max(...all.map((r) => r[i]?.length ?? 0), 3));
  const line = (r: string[]): string => `| ${width.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** pino JSON lines at warn (40) or above, grouped by message, most common first. */
export function logWarnings(text: string): { count: number; top: { msg: string; count: number }[] } {
  const groups = new Map<string, number>();
  let count = 0;
  for (const line of text.split('\n')) {
    let entry: { level?: unknown; msg?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (typeof entry.level !== 'number' || entry.level < 40) continue;
    count++;
    const msg = String(entry.msg);
    groups.set(msg, (groups.get(msg) ?? 0) + 1);
  }
  const top = [...groups.entries()]
    .map(([msg, n]) => ({ msg, count: n }))
    .sort((a, b) => b.count - a.count)
    .slice(0, 3);
  return { count, top };
}

/** Warnings the gateway pods logged in the last `seconds`; a string when the logs cannot be read. */
export async function gatewayWarnings(
  c: Clients,
  pods: PodIdentity[],
  seconds: number,
): Promise<{ count: number; top: { msg: string; count: number }[] } | string> {
  try {
    const texts = await Promise.all(
      pods.map((p) =>
        c.core.readNamespacedPodLog({
          name: p.name,
          namespace: p.namespace,
          sinceSeconds: Math.ceil(seconds),
        }),
      ),
    );
    return logWarnings(texts.join('\n'));
  } catch (error) {
    return `unavailable: ${describe(error)}`;
  }
}

/**
 * Ctrl-C aborts the returned signal, so the run cleans up; a second Ctrl-C exits at once with
 * `hint` (what to clean up by hand).
 */
export function interruptSignal(say: (message: string) => void, hint: string): AbortSignal {
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) {
      say(`interrupted again: exiting without cleanup; ${hint}`);
      process.exit(130);
    }
    say('interrupted: cleaning up (Ctrl-C again to exit at once)');
    interrupt.abort();
  });
  return interrupt.signal;
}
