// Table tests of the Route reconciler's placeholder Services and finalizer, in Knative's manner: a
// starting world, then the writes, the events and the status. A placeholder Service of the wanted
// name that another owner controls makes IngressReady False, NotOwned, as Knative's
// MarkServiceNotOwned does, and the Route is retried.
import { describe, expect, it } from '@jest/globals';
import type { V1ObjectMeta, V1Service } from '@kubernetes/client-node';
import { clusterConfigFromData } from '../../apis/config/cluster-config.ts';
import { ANNOTATIONS, LABELS } from '../../apis/serving/register.ts';
import type { Configuration } from '../../apis/serving/v1/configuration-types.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';
import type { Route, RouteStatus } from '../../apis/serving/v1/route-types.ts';
import { apiError, FakeCluster, type StartingWorld } from '../testing/fake-cluster.ts';
import { ROUTE_FINALIZER, RouteReconciler } from './route.ts';

const READY = [{ type: 'Ready', status: 'True' as const }];

function route(meta: Partial<Route['metadata']> = {}): Route {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Route',
    metadata: {
      name: 'hello',
      namespace: 'ns',
      uid: 'route-uid',
      generation: 1,
      resourceVersion: '5',
      finalizers: [ROUTE_FINALIZER],
      ...meta,
    },
    spec: { traffic: [{ configurationName: 'hello', latestRevision: true, percent: 100 }] },
  };
}

const configuration: Configuration = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Configuration',
  metadata: { name: 'hello', namespace: 'ns', uid: 'cfg-uid', generation: 1 },
  spec: { template: { spec: { containers: [{ image: 'app' }] } } },
  status: {
    observedGeneration: 1,
    latestCreatedRevisionName: 'hello-00001',
    latestReadyRevisionName: 'hello-00001',
    conditions: READY,
  },
};

const revision: Revision = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Revision',
  metadata: {
    name: 'hello-00001',
    namespace: 'ns',
    uid: 'rev-uid',
    generation: 1,
    labels: { [LABELS.configuration]: 'hello' },
  },
  spec: { containers: [{ image: 'app' }] },
  status: { observedGeneration: 1, conditions: READY },
};

/** A Service named as the Route's placeholder, made by someone else: no route label (so no cache
 * shows it), or another Route's. */
function someoneElses(owner: Pick<V1ObjectMeta, 'labels' | 'ownerReferences'> = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'hello',
      namespace: 'ns',
      uid: 'svc-uid',
      labels: owner.labels,
      ownerReferences: owner.ownerReferences,
    },
    spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
  };
}

async function reconcile(world: StartingWorld) {
  const cluster = new FakeCluster({ configurations: [configuration], revisions: [revision], ...world });
  const result = await new RouteReconciler(cluster.ctx).reconcile('ns/hello').then(
    () => undefined,
    (error: unknown) => error,
  );
  const statuses = cluster.writes.filter((w) => w.verb === 'status').map((w) => w.body as RouteStatus);
  const ingress = statuses.at(-1)?.conditions?.find((c) => c.type === 'IngressReady');
  const ready = statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready');
  return { cluster, error: result, ingress, ready };
}

describe('Route placeholder Services', () => {
  it('creates a missing placeholder, says so in an event, and is ready', async () => {
    const { cluster, error, ingress, ready } = await reconcile({ routes: [route()] });
    expect(error).toBeUndefined();
    expect(cluster.writeLines).toEqual([
      'create Service ns/hello',
      'patch serving.knative.dev/Revision ns/hello-00001',
      'patch serving.knative.dev/Configuration ns/hello',
      'status serving.knative.dev/Route ns/hello',
    ]);
    expect(cluster.events).toEqual([
      {
        object: 'Route ns/hello',
        type: 'Normal',
        reason: 'Created',
        message: 'Created placeholder service "hello"',
      },
    ]);
    expect(ingress?.status).toBe('True');
    expect(ready?.status).toBe('True');
  });

  it('reports a placeholder another owner controls as NotOwned, and fails the reconcile so it is retried', async () => {
    const { cluster, error, ingress, ready } = await reconcile({
      routes: [route()],
      hidden: [{ kind: 'Service', obj: someoneElses() }],
    });
    // AlreadyExists, then a read of what is there: never an update of someone else's Service.
    expect(cluster.writeLines).toEqual([
      'create Service ns/hello',
      'patch serving.knative.dev/Revision ns/hello-00001',
      'patch serving.knative.dev/Configuration ns/hello',
      'status serving.knative.dev/Route ns/hello',
    ]);
    expect(ingress).toMatchObject({
      status: 'False',
      reason: 'NotOwned',
      message: 'There is an existing placeholder Service "hello" that we do not own.',
    });
    expect(ready).toMatchObject({ status: 'False', reason: 'NotOwned' });
    expect(error).toEqual(new Error('route: "hello" does not own Service: "hello"'));
    expect(cluster.events).toEqual([
      {
        object: 'Route ns/hello',
        type: 'Warning',
        reason: 'InternalError',
        message: 'route: "hello" does not own Service: "hello"',
      },
    ]);
  });

  it('reports a cached placeholder of another Route as NotOwned without touching it', async () => {
    const other = someoneElses({
      labels: { [LABELS.route]: 'other' },
      ownerReferences: [
        {
          apiVersion: 'serving.knative.dev/v1',
          kind: 'Route',
          name: 'other',
          uid: 'other-uid',
          controller: true,
        },
      ],
    });
    const { cluster, ingress } = await reconcile({ routes: [route()], k8sServices: [other] });
    expect(cluster.writeLines.filter((l) => l.includes(' Service '))).toEqual([]);
    expect(ingress).toMatchObject({ status: 'False', reason: 'NotOwned' });
  });

  it('sends CreationFailed when the API server refuses a placeholder, and writes no status', async () => {
    const { cluster, error } = await reconcile({
      routes: [route()],
      failures: { 'create Service ns/hello': apiError(403, 'exceeded quota: services=10') },
    });
    expect(error).toBeInstanceOf(Error);
    expect(cluster.events).toEqual([
      {
        object: 'Route ns/hello',
        type: 'Warning',
        reason: 'CreationFailed',
        message: 'Failed to create placeholder service "hello": exceeded quota: services=10',
      },
    ]);
    expect(cluster.writeLines).toEqual(['create Service ns/hello']);
  });
});

describe('Route finalizer', () => {
  const routed: Revision = {
    ...revision,
    metadata: {
      ...revision.metadata,
      labels: { ...revision.metadata.labels, [LABELS.routingState]: 'active' },
      annotations: { [ANNOTATIONS.routes]: 'hello' },
    },
  };
  const routedConfiguration: Configuration = {
    ...configuration,
    metadata: { ...configuration.metadata, annotations: { [ANNOTATIONS.routes]: 'hello' } },
  };

  it('is added to a Route that lacks it, before anything else', async () => {
    const { cluster } = await reconcile({ routes: [route({ finalizers: [] })] });
    expect(cluster.writes[0]).toEqual({
      verb: 'patch',
      kind: 'serving.knative.dev/Route',
      key: 'ns/hello',
      body: { metadata: { finalizers: [ROUTE_FINALIZER], resourceVersion: '5' } },
    });
  });

  it('takes a deleted Route off what it routed to (they turn reserve), then lets it go', async () => {
    const { cluster, error } = await reconcile({
      routes: [route({ deletionTimestamp: '2026-01-02T00:00:00Z' })],
      revisions: [routed],
      configurations: [routedConfiguration],
    });
    expect(error).toBeUndefined();
    expect(cluster.writes).toEqual([
      {
        verb: 'patch',
        kind: 'serving.knative.dev/Revision',
        key: 'ns/hello-00001',
        body: {
          metadata: {
            labels: { [LABELS.routingState]: 'reserve' },
            annotations: {
              [ANNOTATIONS.routes]: null,
              [ANNOTATIONS.routingStateModified]: '2026-01-02T03:04:05Z',
            },
          },
        },
      },
      {
        verb: 'patch',
        kind: 'serving.knative.dev/Configuration',
        key: 'ns/hello',
        body: { metadata: { annotations: { [ANNOTATIONS.routes]: null } } },
      },
      {
        verb: 'patch',
        kind: 'serving.knative.dev/Route',
        key: 'ns/hello',
        body: { metadata: { finalizers: [], resourceVersion: '5' } },
      },
    ]);
  });
});

describe('Route visibility per tag', () => {
  const tagged = route();
  tagged.spec.traffic = [
    { configurationName: 'hello', latestRevision: true, percent: 100 },
    { revisionName: 'hello-00001', percent: 0, tag: 'canary' },
  ];
  const placeholder = (name: string, labels: Record<string, string>): V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'ns',
      uid: `${name}-uid`,
      labels: { [LABELS.route]: 'hello', ...labels },
      ownerReferences: [
        {
          apiVersion: 'serving.knative.dev/v1',
          kind: 'Route',
          name: 'hello',
          uid: 'route-uid',
          controller: true,
        },
      ],
    },
    spec: {
      type: 'ExternalName',
      externalName: 'x',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }],
    },
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'a tag whose placeholder is labelled cluster-local answers inside the cluster only',
      { [LABELS.visibility]: 'cluster-local' },
      'http://canary-hello.ns.svc.cluster.local',
    ],
    ['a tag without the label stays public', {}, 'http://canary-hello.ns.example.com'],
  ])('%s', async (_name, labels, url) => {
    const { config } = clusterConfigFromData({ 'config-domain': { 'example.com': '' } });
    const cluster = new FakeCluster(
      {
        configurations: [configuration],
        revisions: [revision],
        routes: [tagged],
        k8sServices: [placeholder('hello', {}), placeholder('canary-hello', labels)],
      },
      config,
    );
    await new RouteReconciler(cluster.ctx).reconcile('ns/hello');
    const statuses = cluster.writes.filter((w) => w.verb === 'status').map((w) => w.body as RouteStatus);
    expect(statuses.at(-1)?.url).toBe('http://hello.ns.example.com');
    expect(statuses.at(-1)?.traffic?.find((t) => t.tag === 'canary')?.url).toBe(url);
  });
});
