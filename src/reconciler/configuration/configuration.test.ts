// Table tests of the Configuration reconciler's Revision, in Knative's manner: a starting world,
// then the writes, the events and the status.
import { describe, expect, it } from '@jest/globals';
import type { Configuration, ConfigurationStatus } from '../../apis/serving/v1/configuration-types.ts';
import { apiError, FakeCluster, type StartingWorld } from '../testing/fake-cluster.ts';
import { ConfigurationReconciler } from './configuration.ts';

const configuration: Configuration = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Configuration',
  metadata: { name: 'hello', namespace: 'ns', uid: 'cfg-uid', generation: 1, resourceVersion: '2' },
  spec: { template: { spec: { containers: [{ image: 'ghcr.io/example/app:1' }] } } },
};

async function reconcile(world: StartingWorld) {
  const cluster = new FakeCluster({ configurations: [configuration], ...world });
  const error = await new ConfigurationReconciler(cluster.ctx).reconcile('ns/hello').then(
    () => undefined,
    (e: unknown) => e,
  );
  const status = cluster.writes.filter((w) => w.verb === 'status').at(-1)?.body as
    ConfigurationStatus | undefined;
  return { cluster, error, status };
}

describe('Configuration Revision', () => {
  it('creates the Revision of its generation, says so, and holds the first status', async () => {
    const { cluster, error } = await reconcile({});
    expect(error).toBeUndefined();
    expect(cluster.writeLines).toEqual(['create serving.knative.dev/Revision ns/hello-00001']);
    expect(cluster.events).toEqual([
      {
        object: 'Configuration ns/hello',
        type: 'Normal',
        reason: 'Created',
        message: 'Created Revision "hello-00001"',
      },
    ]);
  });

  it("fails with the API server's words when the Revision is refused", async () => {
    const { cluster, error, status } = await reconcile({
      failures: {
        'create serving.knative.dev/Revision ns/hello-00001': apiError(403, 'exceeded quota: revisions=5'),
      },
    });
    expect(error).toBeUndefined();
    expect(cluster.events).toEqual([
      {
        object: 'Configuration ns/hello',
        type: 'Warning',
        reason: 'CreationFailed',
        message: 'Failed to create Revision "hello-00001": exceeded quota: revisions=5',
      },
    ]);
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'RevisionFailed',
      message: expect.stringContaining('exceeded quota: revisions=5'),
    });
  });
});
