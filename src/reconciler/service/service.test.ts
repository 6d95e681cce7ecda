// Table tests of the Service reconciler's children, in Knative's manner: a starting world, then
// the writes, the events and the status.
import { describe, expect, it } from '@jest/globals';
import type { Configuration } from '../../apis/serving/v1/configuration-types.ts';
import type { Service, ServiceStatus } from '../../apis/serving/v1/service-types.ts';
import { apiError, FakeCluster, type StartingWorld } from '../testing/fake-cluster.ts';
import { ServiceReconciler } from './service.ts';

const service: Service = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Service',
  metadata: { name: 'hello', namespace: 'ns', uid: 'svc-uid', generation: 1, resourceVersion: '2' },
  spec: { template: { spec: { containers: [{ image: 'ghcr.io/example/app:1' }] } } },
};

async function reconcile(world: StartingWorld) {
  const cluster = new FakeCluster({ services: [service], ...world });
  const error = await new ServiceReconciler(cluster.ctx).reconcile('ns/hello').then(
    () => undefined,
    (e: unknown) => e,
  );
  const status = cluster.writes.filter((w) => w.verb === 'status').at(-1)?.body as ServiceStatus | undefined;
  return { cluster, error, status };
}

const event = (type: string, reason: string, message: string) => ({
  object: 'Service ns/hello',
  type,
  reason,
  message,
});

describe('Service children', () => {
  it('creates its Configuration and Route, says so, and holds the first status', async () => {
    const { cluster, error } = await reconcile({});
    expect(error).toBeUndefined();
    expect(cluster.writeLines).toEqual([
      'create serving.knative.dev/Configuration ns/hello',
      'create serving.knative.dev/Route ns/hello',
    ]);
    expect(cluster.events).toEqual([
      event('Normal', 'Created', 'Created Configuration "hello"'),
      event('Normal', 'Created', 'Created Route "hello"'),
    ]);
  });

  it('reports a Configuration someone else controls as NotOwned, and leaves it alone', async () => {
    const theirs: Configuration = {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Configuration',
      metadata: { name: 'hello', namespace: 'ns', uid: 'cfg-uid', generation: 1 },
      spec: { template: { spec: { containers: [{ image: 'other' }] } } },
    };
    const { cluster, status } = await reconcile({
      services: [{ ...service, status: { observedGeneration: 1 } }],
      configurations: [theirs],
    });
    expect(cluster.writeLines).toEqual([
      'create serving.knative.dev/Route ns/hello',
      'status serving.knative.dev/Service ns/hello',
    ]);
    expect(status?.conditions?.find((c) => c.type === 'ConfigurationsReady')).toMatchObject({
      status: 'False',
      reason: 'NotOwned',
      message: 'There is an existing Configuration "hello" that we do not own.',
    });
  });

  it("sends CreationFailed with the API server's message when a child is refused", async () => {
    const { cluster, error } = await reconcile({
      failures: {
        'create serving.knative.dev/Configuration ns/hello': apiError(
          400,
          'admission webhook "validation.webhook.serving.knative.dev" denied the request',
        ),
      },
    });
    expect(error).toBeInstanceOf(Error);
    expect(cluster.events).toEqual([
      event(
        'Warning',
        'CreationFailed',
        'Failed to create Configuration "hello": admission webhook "validation.webhook.serving.knative.dev" denied the request',
      ),
    ]);
  });
});
