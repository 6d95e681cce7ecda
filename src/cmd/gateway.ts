// `ebb gateway`: the single entry for every request to a Knative Service. It watches Routes (the
// host table), Revisions (limits and timeouts), the EndpointSlices of revisions' private Services
// (their pods) and of its own peers and the autoscaler; serves the external listener (:8080,
// public hosts), the internal one (:8081, public and cluster-local hosts) and the peer one (:8082,
// requests other replicas pass for revisions whose pods this replica owns); and streams
// per-revision load to the autoscaler each second, poking it at once when a revision at zero gets
// a request.
import { CoreV1Api, DiscoveryV1Api, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Revision } from '../apis/serving/v1/revision-types.ts';
import type { Route } from '../apis/serving/v1/route-types.ts';
import { renderTagName } from '../apis/config/network.ts';
import { LABELS } from '../apis/serving/register.ts';
import type { WireStat } from '../autoscaler/stats-wire.ts';
import { ConfigStore } from '../controller/config-store.ts';
import { Index, labelIndex } from '../controller/indexer.ts';
import { objectKey, type Informer, type Obj } from '../controller/informer.ts';
import { customInformer, typedInformer } from '../controller/informers.ts';
import { REVISIONS, ROUTES, CustomResources } from '../controller/kube.ts';
import { loadKubeConfig } from '../controller/kubeconfig.ts';
import { makeLogger, type Logger } from '../controller/logger.ts';
import { createOpsServer } from '../controller/ops-server.ts';
import { revisionEndpoints, sliceRevisionKey, splitAddress } from '../gateway/endpoints.ts';
import { splitKey } from '../reconciler/context.ts';
import { GatewayMetrics } from '../gateway/metrics.ts';
import { createListener } from '../gateway/listener.ts';
import { NodeHttpPath } from '../gateway/node-http-path.ts';
import { Pipeline, type Entry } from '../gateway/pipeline.ts';
import { plainIP } from '../gateway/forward-headers.ts';
import { ConcurrencyReporter } from '../gateway/request-stats.ts';
import { RevisionBackend, revisionSettings, type Peers } from '../gateway/revision-backend.ts';
import { RoutingTable } from '../gateway/routing-table.ts';
import { StatsSender } from '../gateway/stats-sender.ts';

export interface GatewayOptions {
  systemNamespace: string;
  clusterDomain: string;
  identity: string;
  podIP: string;
  externalPort: number;
  internalPort: number;
  /** Where other replicas pass requests for revisions whose pods this replica owns. */
  peerPort: number;
  metricsPort: number;
  queueDepth: number;
  drainMs: number;
  statsTokenPath: string;
  /** The Service whose ready endpoints are this gateway's peers. */
  gatewayService: string;
  autoscalerService: string;
}

export function gatewayOptions(env: NodeJS.ProcessEnv = process.env): GatewayOptions {
  return {
    systemNamespace: env.SYSTEM_NAMESPACE ?? 'ebb-system',
    clusterDomain: env.CLUSTER_DOMAIN ?? 'cluster.local',
    identity: env.POD_NAME ?? `${hostname()}-${String(process.pid)}`,
    podIP: env.POD_IP ?? '',
    externalPort: Number(env.EXTERNAL_PORT ?? '8080'),
    internalPort: Number(env.INTERNAL_PORT ?? '8081'),
    peerPort: Number(env.PEER_PORT ?? '8082'),
    metricsPort: Number(env.METRICS_PORT ?? '9090'),
    queueDepth: Number(env.QUEUE_DEPTH ?? '10000'),
    drainMs: Number(env.DRAIN_SECONDS ?? '5') * 1000,
    statsTokenPath: env.STATS_TOKEN_PATH ?? '/var/run/secrets/ebb/stats/token',
    gatewayService: env.GATEWAY_SERVICE ?? 'ebb-gateway',
    autoscalerService: env.AUTOSCALER_SERVICE ?? 'ebb-autoscaler',
  };
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** How long Route changes are gathered before the host table is rebuilt. */
const REBUILD_DELAY_MS = 50;

export async function runGateway(
  options: GatewayOptions = gatewayOptions(),
  log: Logger = makeLogger('gateway'),
): Promise<number> {
  const kc = loadKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const custom = new CustomResources(kc);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const onRestart = (resource: string, reason: string): void => {
    log.info({ resource, reason }, 'informer reconnecting');
  };
  const configStore = new ConfigStore(kc, core, options.systemNamespace, log);
  const routes = customInformer<Route>(kc, custom, ROUTES, onRestart);
  const revisions = customInformer<Revision>(kc, custom, REVISIONS, onRestart);
  const slices = typedInformer<V1EndpointSlice>(kc, {
    resource: 'endpointslices',
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    labelSelector: LABELS.revision,
    list: () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: LABELS.revision }),
    onRestart,
  });
  const systemSelector = `${SERVICE_NAME_LABEL} in (${options.gatewayService},${options.autoscalerService})`;
  const systemSlices = typedInformer<V1EndpointSlice>(kc, {
    resource: 'system-endpointslices',
    path: `/apis/discovery.k8s.io/v1/namespaces/${options.systemNamespace}/endpointslices`,
    labelSelector: systemSelector,
    list: () =>
      discovery.listNamespacedEndpointSlice({
        namespace: options.systemNamespace,
        labelSelector: systemSelector,
      }),
    onRestart,
  });
  const slicesByRevision = new Index(slices, (s) => {
    const key = sliceRevisionKey(s);
    return key === undefined ? [] : [key];
  });
  const systemByService = new Index(systemSlices, labelIndex(SERVICE_NAME_LABEL));

  // The host table, rebuilt (coalesced) whenever a Route or the tag template changes.
  let table = RoutingTable.build([], { clusterDomain: options.clusterDomain });
  let rebuildPending = false;
  const build = (): void => {
    rebuildPending = false;
    const network = configStore.current.network;
    table = RoutingTable.build(routes.list(), {
      clusterDomain: options.clusterDomain,
      tagHostname: (name, tag) => renderTagName(network, name, tag),
    });
    for (const w of table.warnings) log.warn(w);
  };
  const rebuild = (): void => {
    if (rebuildPending) return;
    rebuildPending = true;
    // Coalesced over a short delay: a burst of Route changes (a thousand Services created at
    // once) costs one rebuild per delay, not one per change.
    setTimeout(build, REBUILD_DELAY_MS);
  };
  routes.on({ add: rebuild, update: rebuild, delete: rebuild });
  configStore.onChange(rebuild);

  // Revisions the gateway has sent (or tried to send) requests to.
  const backends = new Map<string, RevisionBackend>();
  const self = `${options.podIP}:${String(options.peerPort)}`;
  let peers: Peers = { self, gateways: [], changedAt: 0 };
  /** Every gateway replica's IP, ready or not: the only clients the peer listener accepts. */
  let gatewayIPs = new Set<string>();
  const backend = (namespace: string, revision: string): RevisionBackend | undefined => {
    const key = `${namespace}/${revision}`;
    let b = backends.get(key);
    if (b !== undefined) return b;
    const rev = revisions.get(key);
    if (rev === undefined) return undefined;
    b = new RevisionBackend(key, revisionSettings(rev), options.queueDepth);
    b.setPeers(peers);
    b.setEndpoints(revisionEndpoints(slicesByRevision.get(key)));
    backends.set(key, b);
    return b;
  };
  const refreshEndpoints = (s: V1EndpointSlice): void => {
    const key = sliceRevisionKey(s);
    if (key === undefined) return;
    backends.get(key)?.setEndpoints(revisionEndpoints(slicesByRevision.get(key)));
  };
  slices.on({ add: refreshEndpoints, update: refreshEndpoints, delete: refreshEndpoints });
  revisions.on({
    add: (r) => backends.get(objectKey(r))?.setSettings(revisionSettings(r)),
    update: (r) => backends.get(objectKey(r))?.setSettings(revisionSettings(r)),
    delete: (r) => {
      const key = objectKey(r);
      backends.get(key)?.close(new Error(`revision ${key} was deleted`));
      backends.delete(key);
      metrics.forgetRevision(r.metadata.namespace ?? '', r.metadata.name ?? '');
    },
  });

  let autoscalers: string[] = [];
  const refreshSystem = (): void => {
    const replicas = revisionEndpoints(
      systemByService.get(`${options.systemNamespace}/${options.gatewayService}`),
    );
    const host = (address: string): string => splitAddress(address).host;
    // Starting and draining replicas own no pods but pass requests on: they may connect too.
    gatewayIPs = new Set([...replicas.ready, ...replicas.starting, ...replicas.terminating].map(host));
    const gateways = [...new Set(replicas.ready.map(host))]
      .map((ip) => `${ip}:${String(options.peerPort)}`)
      .sort();
    if (gateways.join(',') !== peers.gateways.join(',')) {
      peers = { self, gateways, changedAt: Date.now() };
      log.info({ gateways }, 'gateway replicas changed');
    }
    for (const b of backends.values()) b.setPeers(peers);
    // The slices carry the stats port (the Service's target port).
    autoscalers = revisionEndpoints(
      systemByService.get(`${options.systemNamespace}/${options.autoscalerService}`),
    ).ready;
  };
  systemSlices.on({ add: refreshSystem, update: refreshSystem, delete: refreshSystem });

  let draining = false;
  const metrics = new GatewayMetrics(registry, () =>
    [...backends.values()].map((b) => {
      const { namespace, name } = splitKey(b.key);
      return { namespace, revision: name, waiting: b.waiting };
    }),
  );
  const sender = new StatsSender({
    pod: options.identity,
    tokenPath: options.statsTokenPath,
    targets: () => autoscalers,
    log,
    onSendError: () => {
      metrics.statsSendError();
    },
  });
  const reporter = new ConcurrencyReporter();
  let lastReport = Date.now();
  const statsTimer = setInterval(() => {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - lastReport) / 1000);
    lastReport = now;
    const stats: WireStat[] = reporter.reportAt(now).map((s) => {
      const { namespace, name } = splitKey(s.key);
      return {
        namespace,
        revision: name,
        concurrency: s.averageConcurrency,
        rps: Math.max(0, s.requestCount) / seconds,
      };
    });
    void sender.send(stats);
  }, 1000);

  const pipeline = new Pipeline({
    table: () => table,
    tagHeaderRouting: () => configStore.current.features.flags['tag-header-based-routing'] === 'Enabled',
    backend,
    reporter,
    poke: (namespace, revision) => {
      void sender.send([{ namespace, revision, concurrency: 1, rps: 1 }], true);
    },
    metrics,
    log,
    draining: () => draining,
  });
  const httpPath = new NodeHttpPath(pipeline);

  const listen = (port: number, server: Server): Promise<void> =>
    new Promise((resolve) => server.listen(port, resolve));
  // Each listener reads HTTP/1.1 itself for plain requests to a warm pod (the fast path) and hands
  // every other connection to node:http and the node:http path.
  const makeServer = (listener: Entry) =>
    createListener({
      listener,
      pipeline,
      httpPath,
      keepAliveTimeoutMs: 75_000,
      headersTimeoutMs: 60_000,
      // Only the other replicas may pass requests on.
      ...(listener === 'peer'
        ? { accept: (ip: string | undefined) => gatewayIPs.has(plainIP(ip ?? '')) }
        : {}),
    });
  const listeners = [
    { server: makeServer('external'), port: options.externalPort },
    { server: makeServer('internal'), port: options.internalPort },
    { server: makeServer('peer'), port: options.peerPort },
  ];

  let synced = false;
  const ops = createOpsServer(
    registry,
    () => synced && !draining,
    'not ready: caches not synced yet, or draining',
  );
  await listen(options.metricsPort, ops);

  await configStore.start();
  const informers: Pick<Informer<Obj>, 'start' | 'stop' | 'waitForSync'>[] = [
    routes,
    revisions,
    slices,
    systemSlices,
  ];
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync()));
  build();
  refreshSystem();
  await Promise.all(listeners.map((l) => l.server.listen(l.port)));
  synced = true;
  log.info(
    {
      external: options.externalPort,
      internal: options.internalPort,
      peer: options.peerPort,
      routes: routes.list().length,
    },
    'gateway serving',
  );

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (why: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      // Not ready first, so that Services stop sending; keep serving while they catch up.
      draining = true;
      log.info({ why, drainMs: options.drainMs, inFlight: pipeline.admission.active }, 'draining');
      await new Promise((r) => setTimeout(r, options.drainMs));
      for (const l of listeners) l.server.close();
      for (const l of listeners) l.server.closeIdleConnections();
      await pipeline.admission.idle();
      for (const l of listeners) l.server.destroy();
      clearInterval(statsTimer);
      for (const b of backends.values()) b.close(new Error('gateway shutting down'));
      for (const i of informers) i.stop();
      configStore.stop();
      sender.close();
      httpPath.close();
      pipeline.close();
      ops.close();
      log.info('stopped');
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
