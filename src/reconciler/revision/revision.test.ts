// Table tests of the Revision reconciler's children, in Knative's manner: a starting world, then
// the writes, the events and the status. Every child is created the one way (reconcileChild), so
// each says Created, a refused one makes the Revision fail with the API server's words, and one
// someone else controls makes it NotOwned.
import { describe, expect, it } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import type { Revision, RevisionStatus } from '../../apis/serving/v1/revision-types.ts';
import { apiError, FakeCluster, type StartingWorld } from '../testing/fake-cluster.ts';
import { RevisionReconciler } from './revision.ts';

const revision: Revision = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Revision',
  metadata: { name: 'hello-00001', namespace: 'ns', uid: 'rev-uid', generation: 1, resourceVersion: '3' },
  spec: { containers: [{ image: 'ghcr.io/example/app:1', ports: [{ containerPort: 8080 }] }] },
};

async function reconcile(world: StartingWorld) {
  const cluster = new FakeCluster({ revisions: [revision], ...world });
  const outcome = await new RevisionReconciler(cluster.ctx).reconcile('ns/hello-00001').then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  const status = cluster.writes.filter((w) => w.verb === 'status').at(-1)?.body as RevisionStatus | undefined;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  return { cluster, outcome, ready };
}

const created = (message: string) => ({
  object: 'Revision ns/hello-00001',
  type: 'Normal',
  reason: 'Created',
  message,
});

describe('Revision children', () => {
  it('creates the Deployment, private Service and PodAutoscaler, says so, and holds the first status', async () => {
    const { cluster, outcome } = await reconcile({});
    expect(outcome).toEqual({ result: undefined });
    expect(cluster.writeLines).toEqual([
      'create Deployment ns/hello-00001-deployment',
      'create Service ns/hello-00001-private',
      'create autoscaling.internal.ebb.dev/PodAutoscaler ns/hello-00001',
    ]);
    expect(cluster.events).toEqual([
      created('Created Deployment "hello-00001-deployment"'),
      created('Created Service "hello-00001-private"'),
      created('Created PodAutoscaler "hello-00001"'),
    ]);
  });

  it("fails the Revision with the API server's words when it refuses a child, and tries again later", async () => {
    const { cluster, outcome, ready } = await reconcile({
      failures: {
        'create Deployment ns/hello-00001-deployment': apiError(
          422,
          'spec.template.spec.volumes[0]: Invalid value',
        ),
      },
    });
    const message =
      'Failed to create Deployment "hello-00001-deployment": spec.template.spec.volumes[0]: Invalid value';
    expect(outcome).toEqual({ result: { requeueAfterMs: 30_000 } });
    expect(ready).toMatchObject({ status: 'False', reason: 'CreationFailed', message });
    // One event: the create's.
    expect(cluster.events).toEqual([
      { object: 'Revision ns/hello-00001', type: 'Warning', reason: 'CreationFailed', message },
    ]);
  });

  it('retries a create the API server could not answer, with no status', async () => {
    const { cluster, outcome } = await reconcile({
      failures: { 'create Deployment ns/hello-00001-deployment': apiError(504, 'timeout') },
    });
    expect(outcome).toMatchObject({ error: { refused: false } });
    expect(cluster.writeLines).toEqual(['create Deployment ns/hello-00001-deployment']);
  });

  it('reports a private Service someone else controls as NotOwned', async () => {
    const theirs: V1Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hello-00001-private', namespace: 'ns', uid: 'svc-uid' },
      spec: { selector: { app: 'other' } },
    };
    const { cluster, ready } = await reconcile({
      revisions: [{ ...revision, status: { observedGeneration: 1 } }],
      hidden: [{ kind: 'Service', obj: theirs }],
    });
    expect(cluster.writeLines).toEqual([
      'create Deployment ns/hello-00001-deployment',
      'create Service ns/hello-00001-private',
      'status serving.knative.dev/Revision ns/hello-00001',
    ]);
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'NotOwned',
      message: 'There is an existing Service "hello-00001-private" that we do not own.',
    });
    expect(cluster.events.map((e) => e.reason)).toEqual(['Created', 'NotOwned']);
  });
});
