// The gateway's whole request path in this process, on loopback, for tests and benchmarks: one
// Route `hello` in namespace `ns` for HOST, the real pipeline, node:http path and listener (fast
// path first) as cmd/gateway.ts wires them, and the revision backends the Route points at. Pods
// are whatever loopback servers the caller makes and hands to setPods. No Kubernetes.
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Route } from '../../apis/serving/v1/route-types.ts';
import type { FastPath } from '../fast-path.ts';
import { createListener } from '../listener.ts';
import { GatewayMetrics } from '../metrics.ts';
import { NodeHttpPath } from '../node-http-path.ts';
import { Pipeline } from '../pipeline.ts';
import { ConcurrencyReporter } from '../request-stats.ts';
import { RevisionBackend, revisionSettings, type RevisionSettings } from '../revision-backend.ts';
import { RoutingTable } from '../routing-table.ts';

export const HOST = 'hello.ns.example.com';

export interface LoopbackGatewayOptions {
  /** The revision's settings over Knative's defaults. */
  settings?: Partial<RevisionSettings>;
  headersTimeoutMs?: number;
  /**
   * Split the Route 50/50 with a second revision, `hello-00002`, that has no pod and a 300 ms
   * timeout, so that its requests end in 504.
   */
  coldCanary?: boolean;
  /** The revision's ready pods (`ip:port`). */
  pods?: string[];
  queueDepth?: number;
}

export interface LoopbackGateway {
  port: number;
  /** The peer listener's address (`127.0.0.1:port`), where other replicas pass requests. */
  peerAddress: string;
  fast: FastPath;
  pipeline: Pipeline;
  /** `ns/hello-00001`. */
  backend: RevisionBackend;
  draining: { value: boolean };
  /** What the autoscaler would be sent; the caller reads it (reportAt) as the gateway does each second. */
  reporter: ConcurrencyReporter;
  setPods: (pods: string[]) => void;
  /** A counter's values by its `reason` label. */
  byReason: (
    metric: 'ebb_gateway_handovers_total' | 'ebb_gateway_refused_requests_total',
  ) => Promise<Record<string, number>>;
  close: () => Promise<void>;
}

export async function loopbackGateway(options: LoopbackGatewayOptions = {}): Promise<LoopbackGateway> {
  const route: Route = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Route',
    metadata: { name: 'hello', namespace: 'ns' },
    spec: {},
    status: {
      url: `http://${HOST}`,
      address: { url: 'http://hello.ns.svc.cluster.local' },
      traffic:
        options.coldCanary === true
          ? [
              { revisionName: 'hello-00001', percent: 50, latestRevision: false },
              { revisionName: 'hello-00002', percent: 50, latestRevision: true },
            ]
          : [{ revisionName: 'hello-00001', percent: 100, latestRevision: true }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
  const table = RoutingTable.build([route], { clusterDomain: 'cluster.local' });
  const backend = new RevisionBackend(
    'ns/hello-00001',
    { ...revisionSettings(undefined), ...options.settings },
    options.queueDepth ?? 100,
  );
  const setPods = (pods: string[]): void => {
    backend.setEndpoints({ ready: pods, starting: [], terminating: [] });
  };
  setPods(options.pods ?? []);
  const canary = new RevisionBackend(
    'ns/hello-00002',
    { ...revisionSettings(undefined), timeoutMs: 300, responseStartTimeoutMs: 300 },
    1000,
  );
  const draining = { value: false };
  const registry = new Registry();
  const reporter = new ConcurrencyReporter();
  const pipeline = new Pipeline({
    table: () => table,
    tagHeaderRouting: () => false,
    backend: (namespace, revision) =>
      namespace !== 'ns'
        ? undefined
        : revision === 'hello-00001'
          ? backend
          : revision === 'hello-00002'
            ? canary
            : undefined,
    reporter,
    poke: () => undefined,
    metrics: new GatewayMetrics(registry, () => []),
    log: pino({ level: 'silent' }),
    draining: () => draining.value,
  });
  const httpPath = new NodeHttpPath(pipeline);
  const [fast, peer] = (['external', 'peer'] as const).map((listener) =>
    createListener({
      listener,
      pipeline,
      httpPath,
      keepAliveTimeoutMs: 75_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 60_000,
    }),
  ) as [FastPath, FastPath];
  await fast.listen(0, '127.0.0.1');
  await peer.listen(0, '127.0.0.1');
  return {
    port: (fast.server.address() as AddressInfo).port,
    peerAddress: `127.0.0.1:${String((peer.server.address() as AddressInfo).port)}`,
    fast,
    pipeline,
    backend,
    draining,
    reporter,
    setPods,
    byReason: async (metric) => {
      const values = (await registry.getSingleMetric(metric)?.get())?.values ?? [];
      return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
    },
    close: async () => {
      for (const listener of [fast, peer]) {
        listener.close();
        for (const conn of listener.connections) conn.socket.destroy();
        listener.options.fallback.closeAllConnections();
        listener.destroy();
      }
      httpPath.close();
      pipeline.close();
      backend.close(new Error('test over'));
      canary.close(new Error('test over'));
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/**
 * `count` replicas of the gateway in front of the same pods, each knowing the others by their peer
 * listeners, as the replicas of one Deployment do: each pod is owned by exactly one of them.
 */
export async function gatewayReplicas(
  count: number,
  options: LoopbackGatewayOptions = {},
): Promise<LoopbackGateway[]> {
  const replicas: LoopbackGateway[] = [];
  for (let i = 0; i < count; i++) replicas.push(await loopbackGateway(options));
  const gateways = replicas.map((r) => r.peerAddress);
  for (const r of replicas) r.backend.setPeers({ self: r.peerAddress, gateways, changedAt: 0 });
  return replicas;
}
