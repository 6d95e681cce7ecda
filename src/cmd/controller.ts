// `ebb controller`: wires informers, work queues and reconcilers for the serving kinds, elects a
// leader among replicas (standbys wait for the lease without watching, unless WARM_STANDBY), serves
// metrics and health on one HTTP port, and shuts down gracefully on SIGTERM.
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  type V1Deployment,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { collectDefaultMetrics } from 'prom-client';
import type { PodAutoscaler } from '../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { ANNOTATIONS, LABELS } from '../apis/serving/register.ts';
import type { Configuration } from '../apis/serving/v1/configuration-types.ts';
import type { Revision } from '../apis/serving/v1/revision-types.ts';
import type { Route } from '../apis/serving/v1/route-types.ts';
import type { Service } from '../apis/serving/v1/service-types.ts';
import { ConfigStore } from '../controller/config-store.ts';
import { EventRecorder } from '../controller/events.ts';
import { loadKubeConfig } from '../controller/kubeconfig.ts';
import { createOpsServer } from '../controller/ops-server.ts';
import { Index, labelIndex } from '../controller/indexer.ts';
import { Informer, objectKey, type Obj } from '../controller/informer.ts';
import { customInformer, typedInformer } from '../controller/informers.ts';
import {
  CONFIGURATIONS,
  CustomResources,
  PODAUTOSCALERS,
  REVISIONS,
  ROUTES,
  SERVING_SERVICES,
  isNamespaceTerminating,
  type CustomKind,
} from '../controller/kube.ts';
import { LeaderElector } from '../controller/leader-election.ts';
import { logReconcileFailure, makeLogger, type Logger } from '../controller/logger.ts';
import { ControllerMetrics } from '../controller/metrics.ts';
import { WorkQueue, type Reconcile } from '../controller/workqueue.ts';
import { ConfigurationReconciler } from '../reconciler/configuration/configuration.ts';
import { splitKey, type ReconcilerContext, type World } from '../reconciler/context.ts';
import { GarbageCollector } from '../reconciler/gc/gc.ts';
import { RevisionReconciler } from '../reconciler/revision/revision.ts';
import { RouteReconciler, routeReferences } from '../reconciler/route/route.ts';
import { ServiceReconciler } from '../reconciler/service/service.ts';
import { DEFAULT_SETTLE_MS, StatusWriter, type WithStatus } from '../reconciler/status.ts';

export interface ControllerOptions {
  systemNamespace: string;
  gatewayService: string;
  clusterDomain: string;
  metricsPort: number;
  workers: number;
  leaderElect: boolean;
  identity: string;
  /** How long a parent waits for more changes of its children before reconciling. */
  coalesceMs: number;
  /**
   * The same for a Service, the top of the tree: its Configuration and Route change in pairs
   * (both take up a new Revision, then both see it Ready), and a longer wait makes each pair one
   * status write.
   */
  serviceCoalesceMs: number;
  /** How long a status that only reports progress (Ready Unknown) may be held back. */
  statusSettleMs: number;
  /**
   * Standbys watch and cache everything too, so a new leader starts with warm caches. Off by
   * default: every watcher costs the API server an encoded event per change, and at 10 new
   * Services per second on 2 cores a second full set of watches was what tipped it into
   * saturation. A cold standby lists what it needs when it takes over.
   */
  warmStandby: boolean;
}

export function controllerOptions(env: NodeJS.ProcessEnv = process.env): ControllerOptions {
  return {
    systemNamespace: env.SYSTEM_NAMESPACE ?? 'ebb-system',
    gatewayService: env.GATEWAY_SERVICE ?? 'ebb-gateway-internal',
    clusterDomain: env.CLUSTER_DOMAIN ?? 'cluster.local',
    metricsPort: Number(env.METRICS_PORT ?? '9090'),
    workers: Number(env.WORKERS ?? '16'),
    leaderElect: env.LEADER_ELECT !== 'false',
    identity: env.POD_NAME ?? `${hostname()}-${String(process.pid)}`,
    coalesceMs: Number(env.COALESCE_MS ?? '50'),
    serviceCoalesceMs: Number(env.SERVICE_COALESCE_MS ?? '250'),
    statusSettleMs: Number(env.STATUS_SETTLE_MS ?? String(DEFAULT_SETTLE_MS)),
    warmStandby: env.WARM_STANDBY === 'true',
  };
}

/**
 * Enqueues the keys `keys` derives from each change. A parent reacting to its children waits
 * `coalesceMs`: a burst of child updates (status, then labels, then status again) becomes one
 * reconcile of the parent instead of one each.
 */
function enqueueOnChange<T extends Obj>(
  informer: Informer<T>,
  keys: (obj: T) => (string | undefined)[],
  queue: WorkQueue,
  coalesceMs = 0,
  ignoreUpdate?: (obj: T, old: T) => boolean,
): void {
  const add = (obj: T): void => {
    for (const key of keys(obj)) if (key !== undefined && key !== '') queue.addAfter(key, coalesceMs);
  };
  const update = (obj: T, old: T): void => {
    if (ignoreUpdate?.(obj, old) !== true) add(obj);
  };
  informer.on({ add, update, delete: add });
}

/** `namespace/route` for each route in an object's serving.knative.dev/routes annotation. */
function routesAnnotationIndex(obj: Obj & { metadata?: { annotations?: Record<string, string> } }): string[] {
  const ns = obj.metadata?.namespace ?? '';
  return (obj.metadata?.annotations?.[ANNOTATIONS.routes] ?? '')
    .split(',')
    .filter((r) => r !== '')
    .map((r) => `${ns}/${r}`);
}

function labelKey(obj: Obj, label: string): string | undefined {
  const value = obj.metadata?.labels?.[label];
  return value === undefined || value === '' ? undefined : `${obj.metadata?.namespace ?? ''}/${value}`;
}

export async function runController(
  options = controllerOptions(),
  log: Logger = makeLogger('controller'),
): Promise<number> {
  const kc = loadKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = new CustomResources(kc);
  const metrics = new ControllerMetrics();
  collectDefaultMetrics({ register: metrics.registry });
  const events = new EventRecorder(core, 'ebb-controller', log, options.identity);
  const configStore = new ConfigStore(kc, core, options.systemNamespace, log, events);

  const onRestart = (resource: string, reason: string): void => {
    metrics.informerRestarted(resource, reason);
    log.info({ resource, reason }, 'informer reconnecting');
  };
  const k8sInformer = <T extends Obj>(
    resource: string,
    path: string,
    labelSelector: string,
    list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  ): Informer<T> => typedInformer<T>(kc, { resource, path, labelSelector, list, onRestart });

  const services = customInformer<Service>(kc, custom, SERVING_SERVICES, onRestart);
  const configurations = customInformer<Configuration>(kc, custom, CONFIGURATIONS, onRestart);
  const revisions = customInformer<Revision>(kc, custom, REVISIONS, onRestart);
  const routes = customInformer<Route>(kc, custom, ROUTES, onRestart);
  const podAutoscalers = customInformer<PodAutoscaler>(kc, custom, PODAUTOSCALERS, onRestart);
  const deployments = k8sInformer<V1Deployment>(
    'deployments',
    '/apis/apps/v1/deployments',
    LABELS.revision,
    () => apps.listDeploymentForAllNamespaces({ labelSelector: LABELS.revision }),
  );
  const pods = k8sInformer<V1Pod>('pods', '/api/v1/pods', LABELS.revision, () =>
    core.listPodForAllNamespaces({ labelSelector: LABELS.revision }),
  );
  const k8sServices = k8sInformer<V1Service>('services', '/api/v1/services', LABELS.route, () =>
    core.listServiceForAllNamespaces({ labelSelector: LABELS.route }),
  );
  const privateServices = k8sInformer<V1Service>(
    'private-services',
    '/api/v1/services',
    LABELS.revision,
    () => core.listServiceForAllNamespaces({ labelSelector: LABELS.revision }),
  );
  const world: World = {
    services,
    configurations,
    revisions,
    routes,
    podAutoscalers,
    deployments,
    k8sServices,
    pods,
    privateServices,
    revisionsByConfiguration: new Index(revisions, labelIndex(LABELS.configuration)),
    podsByRevision: new Index(pods, labelIndex(LABELS.revision)),
    revisionsByRoute: new Index(revisions, routesAnnotationIndex),
    configurationsByRoute: new Index(configurations, routesAnnotationIndex),
    k8sServicesByRoute: new Index(k8sServices, labelIndex(LABELS.route)),
  };
  const routesByTarget = new Index(routes, (r) =>
    routeReferences(r).map((n) => `${r.metadata.namespace ?? ''}/${n}`),
  );

  const ctx: ReconcilerContext = {
    world,
    custom,
    status: new StatusWriter(custom, { settleMs: options.statusSettleMs }),
    apps,
    core,
    events,
    log,
    config: () => configStore.current,
    now: () => new Date(),
    systemNamespace: options.systemNamespace,
    gatewayService: options.gatewayService,
    clusterDomain: options.clusterDomain,
  };

  const reconcilers: { name: string; queue: WorkQueue; reconcile: Reconcile }[] = [];
  const register = (name: string, reconcile: Reconcile): WorkQueue => {
    const hooks = metrics.forReconciler(name);
    const queue = new WorkQueue({ onDepth: hooks.onDepth });
    // A namespace being deleted refuses new objects; its own objects are on their way out, so
    // retrying would only spin.
    const guarded: Reconcile = async (key) => {
      try {
        return await reconcile(key);
      } catch (error) {
        if (!isNamespaceTerminating(error)) throw error;
        log.debug({ kind: name, ...splitKey(key) }, 'namespace is being deleted; not retrying');
        return undefined;
      }
    };
    reconcilers.push({ name, queue, reconcile: guarded });
    return queue;
  };
  const serviceR = new ServiceReconciler(ctx);
  const configurationR = new ConfigurationReconciler(ctx);
  const revisionR = new RevisionReconciler(ctx);
  const routeR = new RouteReconciler(ctx);
  const serviceQ = register('service', (k) => serviceR.reconcile(k));
  const configurationQ = register('configuration', (k) => configurationR.reconcile(k));
  const revisionQ = register('revision', (k) => revisionR.reconcile(k));
  const routeQ = register('route', (k) => routeR.reconcile(k));

  const routesFor = (obj: Obj): string[] => routesByTarget.get(objectKey(obj)).map((r) => objectKey(r));
  // An object's own queue skips the echo of its reconciler's status write (parents still see it).
  const echo =
    (kind: CustomKind) =>
    (obj: Obj, old: Obj): boolean =>
      ctx.status.isOwnEcho(kind, old as WithStatus, obj as WithStatus);
  enqueueOnChange(services, (s) => [objectKey(s)], serviceQ, 0, echo(SERVING_SERVICES));
  enqueueOnChange(configurations, (c) => [objectKey(c)], configurationQ, 0, echo(CONFIGURATIONS));
  enqueueOnChange(configurations, (c) => [labelKey(c, LABELS.service)], serviceQ, options.serviceCoalesceMs);
  enqueueOnChange(configurations, routesFor, routeQ, options.coalesceMs);
  enqueueOnChange(revisions, (r) => [objectKey(r)], revisionQ, 0, echo(REVISIONS));
  enqueueOnChange(revisions, (r) => [labelKey(r, LABELS.configuration)], configurationQ, options.coalesceMs);
  enqueueOnChange(
    revisions,
    (r) => [
      ...routesFor(r),
      ...routesFor({
        metadata: { namespace: r.metadata.namespace, name: r.metadata.labels?.[LABELS.configuration] },
      }),
    ],
    routeQ,
    options.coalesceMs,
  );
  enqueueOnChange(revisions, (r) => [labelKey(r, LABELS.service)], serviceQ, options.serviceCoalesceMs);
  enqueueOnChange(routes, (r) => [objectKey(r)], routeQ, 0, echo(ROUTES));
  enqueueOnChange(routes, (r) => [labelKey(r, LABELS.service)], serviceQ, options.serviceCoalesceMs);
  enqueueOnChange(podAutoscalers, (p) => [labelKey(p, LABELS.revision)], revisionQ, options.coalesceMs);
  enqueueOnChange(deployments, (d) => [labelKey(d, LABELS.revision)], revisionQ, options.coalesceMs);
  enqueueOnChange(pods, (p) => [labelKey(p, LABELS.revision)], revisionQ, options.coalesceMs);
  enqueueOnChange(k8sServices, (s) => [labelKey(s, LABELS.route)], routeQ, options.coalesceMs);
  enqueueOnChange(privateServices, (s) => [labelKey(s, LABELS.revision)], revisionQ, options.coalesceMs);
  configStore.onChange(() => {
    for (const r of routes.list()) routeQ.add(objectKey(r));
    for (const r of revisions.list()) revisionQ.add(objectKey(r));
    for (const c of configurations.list()) configurationQ.add(objectKey(c));
  });
  const gc = new GarbageCollector(ctx);

  // Health and metrics on one port. Ready once this replica can do its part: the leader (or a warm
  // standby) with synced caches, a cold standby as soon as its configuration is loaded.
  let ready = false;
  const server = createOpsServer(metrics.registry, () => ready, 'caches not synced');
  await new Promise<void>((resolve) => server.listen(options.metricsPort, resolve));

  await configStore.start();
  const informers: Informer<Obj>[] = [
    services,
    configurations,
    revisions,
    routes,
    podAutoscalers,
    deployments,
    pods,
    k8sServices,
    privateServices,
  ] as Informer<Obj>[];
  let caches: Promise<void> | undefined;
  const syncCaches = (): Promise<void> => {
    caches ??= (async () => {
      const started = performance.now();
      for (const i of informers) i.start();
      await Promise.all(informers.map((i) => i.waitForSync()));
      log.info({ identity: options.identity, ms: Math.round(performance.now() - started) }, 'caches synced');
    })();
    return caches;
  };
  const warm = !options.leaderElect || options.warmStandby;
  if (warm) await syncCaches();
  ready = true;

  let running: Promise<unknown> | undefined;
  let stopping = false;
  const startReconciling = async (): Promise<void> => {
    await syncCaches();
    if (stopping) return;
    metrics.setLeader(true);
    log.info({ identity: options.identity }, 'leading: reconciling');
    gc.start();
    running = Promise.all(
      reconcilers.map(({ name, queue, reconcile }) => {
        const hooks = metrics.forReconciler(name);
        return queue.run(options.workers, reconcile, (outcome) => {
          hooks.observe(outcome);
          logReconcileFailure(log, name, outcome);
        });
      }),
    );
  };

  let elector: LeaderElector | undefined;
  const done = new Promise<number>((resolve) => {
    const stop = async (code: number, why: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      log.info({ why }, 'shutting down');
      gc.stop();
      for (const r of reconcilers) r.queue.shutDown();
      await running;
      await elector?.stop();
      for (const i of informers) i.stop();
      configStore.stop();
      server.close();
      resolve(code);
    };
    process.once('SIGTERM', () => void stop(0, 'SIGTERM'));
    process.once('SIGINT', () => void stop(0, 'SIGINT'));
    if (options.leaderElect) {
      elector = new LeaderElector(kc.makeApiClient(CoordinationV1Api), {
        namespace: options.systemNamespace,
        name: 'ebb-controller',
        identity: options.identity,
        onStartedLeading: () => void startReconciling(),
        // A replica that lost the lease may hold stale decisions in flight: exit and start afresh.
        onStoppedLeading: () => {
          metrics.setLeader(false);
          void stop(1, 'lost leadership');
        },
        onNewLeader: (leader) => {
          log.info({ leader }, 'leader observed');
        },
      });
      elector.start();
    } else void startReconciling();
  });
  return await done;
}
