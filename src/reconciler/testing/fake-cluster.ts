// An in-memory cluster for reconciler tests, in the manner of Knative's table tests: a starting
// world (what the informer caches show, and what only the API server holds), then the writes a
// reconcile made, in order, the events it sent and the statuses it wrote. The caches stay as they
// started, as a real cache lags behind the writes of the reconcile that made them.
import type { AppsV1Api, CoreV1Api, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { PodAutoscaler } from '../../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { defaultClusterConfig, type ClusterConfig } from '../../apis/config/cluster-config.ts';
import { ANNOTATIONS, LABELS } from '../../apis/serving/register.ts';
import type { Configuration } from '../../apis/serving/v1/configuration-types.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import type { Route } from '../../apis/serving/v1/route-types.ts';
import type { Service } from '../../apis/serving/v1/service-types.ts';
import type { EventRecorder, EventTarget } from '../../controller/events.ts';
import { labelIndex } from '../../controller/indexer.ts';
import { objectKey } from '../../controller/informer.ts';
import type { Index } from '../../controller/indexer.ts';
import type { Informer, Obj } from '../../controller/informer.ts';
import type { CustomKind, CustomResources } from '../../controller/kube.ts';
import type { ReconcilerContext, World } from '../context.ts';
import { StatusWriter } from '../status.ts';

interface Stored {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    finalizers?: string[];
  };
}

/** A write the reconcile sent: `kind` is `Service` or `Deployment` for the core kinds, the custom
 * kinds' group and kind otherwise (`serving.knative.dev/Route`). */
export interface Write {
  verb: 'create' | 'update' | 'patch' | 'delete' | 'status';
  kind: string;
  key: string;
  body: unknown;
}

export interface RecordedEvent {
  /** `Kind namespace/name` of the object the event is about. */
  object: string;
  type: string;
  reason: string;
  message: string;
}

export interface StartingWorld {
  services?: Service[];
  configurations?: Configuration[];
  revisions?: Revision[];
  routes?: Route[];
  podAutoscalers?: PodAutoscaler[];
  deployments?: V1Deployment[];
  /** Services with the route label (placeholders). */
  k8sServices?: V1Service[];
  /** Services with the revision label (private Services). */
  privateServices?: V1Service[];
  pods?: V1Pod[];
  /** Objects only the API server holds: no cache shows them (they lack the label it selects on). */
  hidden?: { kind: string; obj: Stored }[];
  /** What the API server answers instead, by `verb kind namespace/name`. */
  failures?: Record<string, Error>;
}

/** An error as @kubernetes/client-node throws it. */
export function apiError(code: number, message: string): Error {
  return Object.assign(new Error(`HTTP-Code: ${String(code)}`), {
    code,
    body: JSON.stringify({ kind: 'Status', code, message }),
  });
}

export const NOW = new Date('2026-01-02T03:04:05Z');

export class FakeCluster {
  readonly writes: Write[] = [];
  readonly events: RecordedEvent[] = [];
  readonly ctx: ReconcilerContext;
  private readonly stored = new Map<string, Stored>();
  private readonly failures: Record<string, Error>;
  private version = 100;

  constructor(start: StartingWorld, config: ClusterConfig = defaultClusterConfig()) {
    this.failures = start.failures ?? {};
    const custom = (kind: CustomKind): string => `${kind.group}/${kind.kind}`;
    const seed = (kind: string, objs: readonly Stored[] | undefined): void => {
      for (const o of objs ?? []) this.stored.set(this.key(kind, o), o);
    };
    seed('serving.knative.dev/Service', start.services);
    seed('serving.knative.dev/Configuration', start.configurations);
    seed('serving.knative.dev/Revision', start.revisions);
    seed('serving.knative.dev/Route', start.routes);
    seed('autoscaling.internal.ebb.dev/PodAutoscaler', start.podAutoscalers);
    seed('Deployment', start.deployments);
    seed('Service', [...(start.k8sServices ?? []), ...(start.privateServices ?? [])]);
    for (const h of start.hidden ?? []) seed(h.kind, [h.obj]);

    const revisions = start.revisions ?? [];
    const configurations = start.configurations ?? [];
    const world: World = {
      services: cache(start.services),
      configurations: cache(configurations),
      revisions: cache(revisions),
      routes: cache(start.routes),
      podAutoscalers: cache(start.podAutoscalers),
      deployments: cache(start.deployments),
      k8sServices: cache(start.k8sServices),
      pods: cache(start.pods),
      privateServices: cache(start.privateServices),
      revisionsByConfiguration: index(revisions, labelIndex(LABELS.configuration)),
      podsByRevision: index(start.pods ?? [], labelIndex(LABELS.revision)),
      revisionsByRoute: index(revisions, routesAnnotationIndex),
      configurationsByRoute: index(configurations, routesAnnotationIndex),
      k8sServicesByRoute: index(start.k8sServices ?? [], labelIndex(LABELS.route)),
    };

    const customResources = {
      create: (kind: CustomKind, obj: Stored) => this.create(custom(kind), obj),
      get: (kind: CustomKind, namespace: string, name: string) => this.read(custom(kind), namespace, name),
      replace: (kind: CustomKind, obj: Stored) => this.replace(custom(kind), obj),
      patch: (kind: CustomKind, namespace: string, name: string, body: { metadata?: object }) =>
        this.patch(custom(kind), namespace, name, body),
      setStatus: (kind: CustomKind, namespace: string, name: string, status: unknown) =>
        this.record('status', custom(kind), `${namespace}/${name}`, status),
      delete: (kind: CustomKind, namespace: string, name: string) =>
        this.record('delete', custom(kind), `${namespace}/${name}`, undefined),
    } as unknown as CustomResources;
    const core = {
      createNamespacedService: ({ body }: { body: V1Service }) => this.create('Service', body),
      readNamespacedService: ({ namespace, name }: { namespace: string; name: string }) =>
        this.read('Service', namespace, name),
      replaceNamespacedService: ({ body }: { body: V1Service }) => this.replace('Service', body),
      deleteNamespacedService: ({ namespace, name }: { namespace: string; name: string }) =>
        this.record('delete', 'Service', `${namespace}/${name}`, undefined),
    } as unknown as CoreV1Api;
    const apps = {
      createNamespacedDeployment: ({ body }: { body: V1Deployment }) => this.create('Deployment', body),
      readNamespacedDeployment: ({ namespace, name }: { namespace: string; name: string }) =>
        this.read('Deployment', namespace, name),
      replaceNamespacedDeployment: ({ body }: { body: V1Deployment }) => this.replace('Deployment', body),
    } as unknown as AppsV1Api;
    const events = {
      event: (target: EventTarget, type: string, reason: string, message: string) => {
        const { namespace = '', name = '' } = target.metadata;
        this.events.push({ object: `${target.kind} ${namespace}/${name}`, type, reason, message });
      },
    } as unknown as EventRecorder;

    this.ctx = {
      world,
      custom: customResources,
      status: new StatusWriter(customResources, { settleMs: 0 }),
      apps,
      core,
      events,
      log: pino({ level: 'silent' }),
      config: () => config,
      now: () => NOW,
      systemNamespace: 'ebb-system',
      gatewayService: 'ebb-gateway',
      clusterDomain: 'cluster.local',
    };
  }

  /** The writes as `verb kind namespace/name`, for a compact expectation. */
  get writeLines(): string[] {
    return this.writes.map((w) => `${w.verb} ${w.kind} ${w.key}`);
  }

  private key(kind: string, o: Stored): string {
    return `${kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  }

  private fail(verb: string, kind: string, key: string): void {
    const error = this.failures[`${verb} ${kind} ${key}`];
    if (error !== undefined) throw error;
  }

  /** Records an attempted write, then answers as the failures say. */
  private async record(verb: Write['verb'], kind: string, key: string, body: unknown): Promise<void> {
    await Promise.resolve();
    this.writes.push({ verb, kind, key, body });
    this.fail(verb, kind, key);
  }

  private async create<T extends Stored>(kind: string, obj: T): Promise<T> {
    const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    await this.record('create', kind, key, obj);
    if (this.stored.has(this.key(kind, obj)))
      throw apiError(409, `${kind} ${JSON.stringify(obj.metadata?.name)} already exists`);
    const created = this.stamp(obj, `uid-${obj.metadata?.name ?? ''}`);
    this.stored.set(this.key(kind, created), created);
    return created;
  }

  private async read<T>(kind: string, namespace: string, name: string): Promise<T> {
    await Promise.resolve();
    this.fail('read', kind, `${namespace}/${name}`);
    const obj = this.stored.get(`${kind} ${namespace}/${name}`);
    if (obj === undefined) throw apiError(404, `${kind} ${JSON.stringify(name)} not found`);
    return structuredClone(obj) as T;
  }

  private async replace<T extends Stored>(kind: string, obj: T): Promise<T> {
    await this.record('update', kind, `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`, obj);
    const updated = this.stamp(obj, obj.metadata?.uid);
    this.stored.set(this.key(kind, updated), updated);
    return updated;
  }

  private async patch(
    kind: string,
    namespace: string,
    name: string,
    body: { metadata?: object },
  ): Promise<unknown> {
    await this.record('patch', kind, `${namespace}/${name}`, body);
    const obj = this.stored.get(`${kind} ${namespace}/${name}`);
    if (obj === undefined) throw apiError(404, `${kind} ${JSON.stringify(name)} not found`);
    const patched = this.stamp(
      { ...obj, metadata: { ...obj.metadata, ...body.metadata } },
      obj.metadata?.uid,
    );
    this.stored.set(this.key(kind, patched), patched);
    return patched;
  }

  private stamp<T extends Stored>(obj: T, uid: string | undefined): T {
    const copy = structuredClone(obj);
    copy.metadata = { ...copy.metadata, uid, resourceVersion: String(++this.version) };
    return copy;
  }
}

function cache<T extends Obj>(items: readonly T[] | undefined): Informer<T> {
  const byKey = new Map((items ?? []).map((o) => [objectKey(o), o]));
  const fake = { get: (key: string) => byKey.get(key), list: () => [...byKey.values()], on: () => undefined };
  return fake as unknown as Informer<T>;
}

function index<T extends Obj>(items: readonly T[], keys: (obj: T) => string[]): Index<T> {
  const fake = { get: (key: string) => items.filter((o) => keys(o).includes(key)) };
  return fake as unknown as Index<T>;
}

function routesAnnotationIndex(obj: {
  metadata: { namespace?: string; annotations?: Record<string, string> };
}): string[] {
  const ns = obj.metadata.namespace ?? '';
  return (obj.metadata.annotations?.[ANNOTATIONS.routes] ?? '')
    .split(',')
    .filter((r) => r !== '')
    .map((r) => `${ns}/${r}`);
}
