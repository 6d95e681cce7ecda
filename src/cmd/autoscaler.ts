// `ebb autoscaler`: Knative's KPA. Every replica receives the gateways' stats (POST /v1/stats on
// :8080, authenticated with the gateway's ServiceAccount token) and keeps each revision's metric
// windows; the leader (Lease ebb-autoscaler) runs the deciders every 2 s, or at once when a stat
// wakes a revision at zero, and reconciles the PodAutoscalers whose decision moved.
import {
  AppsV1Api,
  AuthenticationV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type V1Deployment,
  type V1EndpointSlice,
} from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { PodAutoscaler } from '../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import { LABELS } from '../apis/serving/register.ts';
import { HPA_CLASS, KPA_CLASS } from '../apis/config/autoscaler.ts';
import { MultiScaler } from '../autoscaler/multiscaler.ts';
import { resolveScaling } from '../autoscaler/target.ts';
import { createStatsServer } from '../autoscaler/stats-server.ts';
import { STATS_AUDIENCE, STATS_PORT } from '../autoscaler/stats-wire.ts';
import { TokenAuthenticator } from '../autoscaler/token-auth.ts';
import { ConfigStore } from '../controller/config-store.ts';
import { Index } from '../controller/indexer.ts';
import { objectKey, type Informer, type Obj } from '../controller/informer.ts';
import { customInformer, typedInformer } from '../controller/informers.ts';
import { CustomResources, PODAUTOSCALERS } from '../controller/kube.ts';
import { loadKubeConfig } from '../controller/kubeconfig.ts';
import { LeaderElector } from '../controller/leader-election.ts';
import { logReconcileFailure, makeLogger, type Logger } from '../controller/logger.ts';
import { createOpsServer } from '../controller/ops-server.ts';
import { WorkQueue } from '../controller/workqueue.ts';
import { revisionEndpoints, sliceRevisionKey } from '../gateway/endpoints.ts';
import { HpaReconciler } from '../reconciler/podautoscaler/hpa.ts';
import { KpaReconciler } from '../reconciler/podautoscaler/kpa.ts';
import { StatusWriter } from '../reconciler/status.ts';

/** Knative's decider tick. */
const TICK_MS = 2_000;

export interface AutoscalerOptions {
  systemNamespace: string;
  identity: string;
  statsPort: number;
  metricsPort: number;
  leaderElect: boolean;
  /** The ServiceAccount whose tokens may send stats. */
  gatewayServiceAccount: string;
}

export function autoscalerOptions(env: NodeJS.ProcessEnv = process.env): AutoscalerOptions {
  const ns = env.SYSTEM_NAMESPACE ?? 'ebb-system';
  return {
    systemNamespace: ns,
    identity: env.POD_NAME ?? `${hostname()}-${String(process.pid)}`,
    statsPort: Number(env.STATS_PORT ?? String(STATS_PORT)),
    metricsPort: Number(env.METRICS_PORT ?? '9090'),
    leaderElect: env.LEADER_ELECT !== 'false',
    gatewayServiceAccount: env.GATEWAY_SERVICE_ACCOUNT ?? `system:serviceaccount:${ns}:ebb-gateway`,
  };
}

export async function runAutoscaler(
  options: AutoscalerOptions = autoscalerOptions(),
  log: Logger = makeLogger('autoscaler'),
): Promise<number> {
  const kc = loadKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const custom = new CustomResources(kc);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const leaderGauge = new Gauge({
    name: 'ebb_autoscaler_leader',
    help: '1 while this replica leads (decides and scales).',
    registers: [registry],
  });
  const onRestart = (resource: string, reason: string): void => {
    log.info({ resource, reason }, 'informer reconnecting');
  };
  const configStore = new ConfigStore(kc, core, options.systemNamespace, log);
  const podAutoscalers = customInformer<PodAutoscaler>(kc, custom, PODAUTOSCALERS, onRestart, 30_000);
  const deployments = typedInformer<V1Deployment>(kc, {
    resource: 'deployments',
    path: '/apis/apps/v1/deployments',
    labelSelector: LABELS.revision,
    list: () => apps.listDeploymentForAllNamespaces({ labelSelector: LABELS.revision }),
    onRestart,
  });
  const slices = typedInformer<V1EndpointSlice>(kc, {
    resource: 'endpointslices',
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    labelSelector: LABELS.revision,
    list: () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: LABELS.revision }),
    onRestart,
  });
  const slicesByRevision = new Index(slices, (s) => {
    const key = sliceRevisionKey(s);
    return key === undefined ? [] : [key];
  });
  const readyPods = (key: string): number => revisionEndpoints(slicesByRevision.get(key)).ready.length;
  const scalers = new MultiScaler(readyPods);

  const queue = new WorkQueue();
  const statusWriter = new StatusWriter(custom);
  const hpa = new HpaReconciler(kc.makeApiClient(AutoscalingV2Api), statusWriter);
  const kpa = new KpaReconciler({
    podAutoscalers,
    deployments,
    apps,
    status: statusWriter,
    scalers,
    readyPods,
    config: () => ({
      autoscaler: configStore.current.autoscaler,
      progressDeadlineMs: configStore.current.deployment.progressDeadlineMs,
    }),
    now: () => Date.now(),
    log,
  });
  const enqueue = (obj: Obj): void => {
    queue.add(objectKey(obj));
  };
  // Every replica keeps a decider (and so metric windows) per KPA PodAutoscaler: standbys are warm.
  // Deciders are created only once the caches are synced: a decider starts in panic when its
  // revision already has several ready pods (so a restart never scales a busy revision down),
  // and that needs the EndpointSlices.
  let synced = false;
  const track = (pa: PodAutoscaler): void => {
    if (!synced) return;
    const scaling = resolveScaling(pa, configStore.current.autoscaler);
    if (scaling.class === KPA_CLASS) scalers.ensure(objectKey(pa), scaling, Date.now());
    else scalers.delete(objectKey(pa));
    enqueue(pa);
  };
  podAutoscalers.on({
    add: track,
    update: track,
    delete: (pa) => {
      scalers.delete(objectKey(pa));
    },
  });
  const byRevision = (obj: Obj): void => {
    const revision = obj.metadata?.labels?.[LABELS.revision];
    if (revision !== undefined) queue.add(`${obj.metadata?.namespace ?? ''}/${revision}`);
  };
  deployments.on({ add: byRevision, update: byRevision });
  slices.on({ add: byRevision, update: byRevision, delete: byRevision });
  configStore.onChange(() => {
    for (const pa of podAutoscalers.list()) track(pa);
  });

  const auth = new TokenAuthenticator(
    kc.makeApiClient(AuthenticationV1Api),
    STATS_AUDIENCE,
    options.gatewayServiceAccount,
  );
  const statsServer = createStatsServer({
    authenticate: (header) => auth.authenticate(header),
    onReport: (report) => {
      for (const key of scalers.record(report, Date.now())) queue.add(key);
    },
    log,
  });
  await new Promise<void>((resolve) => statsServer.listen(options.statsPort, resolve));

  const ops = createOpsServer(registry, () => synced, 'caches not synced');
  await new Promise<void>((resolve) => ops.listen(options.metricsPort, resolve));
  await configStore.start();
  const informers: Pick<Informer<Obj>, 'start' | 'stop' | 'waitForSync'>[] = [
    podAutoscalers,
    deployments,
    slices,
  ];
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync()));
  synced = true;
  // Deciders exist for every PodAutoscaler from the start, on every replica, so standbys are warm.
  for (const pa of podAutoscalers.list()) track(pa);
  log.info({ identity: options.identity }, 'caches synced');

  const ticker = setInterval(() => {
    for (const key of scalers.tick(Date.now())) queue.add(key);
  }, TICK_MS);

  let running: Promise<void> | undefined;
  const startLeading = (): void => {
    leaderGauge.set(1);
    log.info({ identity: options.identity }, 'leading: scaling');
    for (const pa of podAutoscalers.list()) enqueue(pa);
    running = queue.run(
      4,
      async (key) => {
        const pa = podAutoscalers.get(key);
        if (pa !== undefined && pa.metadata.deletionTimestamp == null) {
          const scaling = resolveScaling(pa, configStore.current.autoscaler);
          if (scaling.class === HPA_CLASS) {
            await hpa.reconcile(pa, scaling, readyPods(key), Date.now());
            return undefined;
          }
        }
        return kpa.reconcile(key);
      },
      (outcome) => {
        logReconcileFailure(log, 'PodAutoscaler', outcome);
      },
    );
  };

  return await new Promise<number>((resolve) => {
    let stopping = false;
    let elector: LeaderElector | undefined;
    const stop = async (code: number, why: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      log.info({ why }, 'shutting down');
      clearInterval(ticker);
      queue.shutDown();
      await running;
      await elector?.stop();
      for (const i of informers) i.stop();
      configStore.stop();
      statsServer.close();
      ops.close();
      resolve(code);
    };
    process.once('SIGTERM', () => void stop(0, 'SIGTERM'));
    process.once('SIGINT', () => void stop(0, 'SIGINT'));
    if (options.leaderElect) {
      elector = new LeaderElector(kc.makeApiClient(CoordinationV1Api), {
        namespace: options.systemNamespace,
        name: 'ebb-autoscaler',
        identity: options.identity,
        onStartedLeading: startLeading,
        onStoppedLeading: () => {
          leaderGauge.set(0);
          void stop(1, 'lost leadership');
        },
      });
      elector.start();
    } else startLeading();
  });
}
