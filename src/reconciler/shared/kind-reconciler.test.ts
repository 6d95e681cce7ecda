// Tests for the generic part of every reconciler: status written only when it changes, events
// sent for the outcome, errors reported, and a kind's finalizer kept and honoured on deletion.
import { describe, expect, it } from '@jest/globals';
import type { Route, RouteStatus } from '../../apis/serving/v1/route-types.ts';
import { ROUTES } from '../../controller/kube.ts';
import { apiError, FakeCluster } from '../testing/fake-cluster.ts';
import { KindReconciler, type KindOutcome, type KindSpec } from './kind-reconciler.ts';
import { ChildCreationFailed } from './reconcile-child.ts';

const READY: RouteStatus = { conditions: [{ type: 'Ready', status: 'True' }] };

function route(change: Partial<Route['metadata']> = {}, status?: RouteStatus): Route {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Route',
    metadata: {
      name: 'hello',
      namespace: 'ns',
      uid: 'route-uid',
      generation: 2,
      resourceVersion: '7',
      ...change,
    },
    spec: {},
    ...(status === undefined ? {} : { status }),
  };
}

function setup(
  obj: Route | undefined,
  reconcileKind: (r: Route) => Promise<KindOutcome<RouteStatus>>,
  finalizer?: KindSpec<Route, RouteStatus>['finalizer'],
) {
  const cluster = new FakeCluster({ routes: obj === undefined ? [] : [obj] });
  const reconciler = new KindReconciler<Route, RouteStatus>(cluster.ctx, {
    kind: ROUTES,
    cache: cluster.ctx.world.routes,
    reconcileKind,
    ...(finalizer === undefined ? {} : { finalizer }),
  });
  return { cluster, run: () => reconciler.reconcile('ns/hello') };
}

const event = (type: string, reason: string, message: string) => ({
  object: 'Route ns/hello',
  type,
  reason,
  message,
});

describe('KindReconciler', () => {
  it('does nothing for a key the cache no longer has', async () => {
    let called = false;
    const { cluster, run } = setup(undefined, () => {
      called = true;
      return Promise.resolve({});
    });
    expect(await run()).toBeUndefined();
    expect(called).toBe(false);
    expect(cluster.writes).toEqual([]);
  });

  it('writes a changed status with observedGeneration, then sends the events it reports', async () => {
    const { cluster, run } = setup(route(), () =>
      Promise.resolve({ status: READY, events: [{ type: 'Normal', reason: 'Ready', message: 'up' }] }),
    );
    expect(await run()).toBeUndefined();
    expect(cluster.writes).toEqual([
      {
        verb: 'status',
        kind: 'serving.knative.dev/Route',
        key: 'ns/hello',
        body: { ...READY, observedGeneration: 2 },
      },
    ]);
    expect(cluster.events).toEqual([event('Normal', 'Ready', 'up')]);
  });

  it('writes nothing, and sends no events, when the status is as stored', async () => {
    const { cluster, run } = setup(route({}, { ...READY, observedGeneration: 2 }), () =>
      Promise.resolve({ status: READY, events: [{ type: 'Normal', reason: 'Ready', message: 'up' }] }),
    );
    await run();
    expect(cluster.writes).toEqual([]);
    expect(cluster.events).toEqual([]);
  });

  it("holds a new generation's first status while its just-created children have nothing to report", async () => {
    const created = setup(route({}, { observedGeneration: 1 }), () =>
      Promise.resolve({ status: READY, childrenCreated: true, requeueAfterMs: 5 }),
    );
    expect(await created.run()).toEqual({ requeueAfterMs: 5 });
    expect(created.cluster.writes).toEqual([]);
    // Once the generation is observed, children created later (a deleted one put back) do not hold it.
    const observed = setup(route({}, { observedGeneration: 2 }), () =>
      Promise.resolve({ status: READY, childrenCreated: true }),
    );
    await observed.run();
    expect(observed.cluster.writeLines).toEqual(['status serving.knative.dev/Route ns/hello']);
  });

  it('reports a failed reconcile as InternalError, but not conflicts or creates that said so already', async () => {
    const failing = (error: Error) => setup(route(), () => Promise.reject(error));
    const internal = failing(apiError(500, 'etcd is unhappy'));
    await expect(internal.run()).rejects.toThrow();
    expect(internal.cluster.events).toEqual([event('Warning', 'InternalError', 'etcd is unhappy')]);
    const conflict = failing(apiError(409, 'the object has been modified'));
    await expect(conflict.run()).rejects.toThrow();
    expect(conflict.cluster.events).toEqual([]);
    const creation = failing(new ChildCreationFailed('placeholder service', 'hello', apiError(422, 'bad')));
    await expect(creation.run()).rejects.toThrow(ChildCreationFailed);
    expect(creation.cluster.events).toEqual([]);
  });

  it('writes the status of a failed reconcile first, then reports the error and retries', async () => {
    const failed: RouteStatus = { conditions: [{ type: 'Ready', status: 'False', reason: 'NotOwned' }] };
    const { cluster, run } = setup(route(), () =>
      Promise.resolve({ status: failed, error: new Error('route: "hello" does not own Service: "hello"') }),
    );
    await expect(run()).rejects.toThrow('does not own');
    expect(cluster.writeLines).toEqual(['status serving.knative.dev/Route ns/hello']);
    expect(cluster.events).toEqual([
      event('Warning', 'InternalError', 'route: "hello" does not own Service: "hello"'),
    ]);
  });

  it('reports a failed status write as UpdateFailed', async () => {
    const cluster = new FakeCluster({
      routes: [route()],
      failures: { 'status serving.knative.dev/Route ns/hello': apiError(422, 'status.url: Invalid value') },
    });
    const reconciler = new KindReconciler<Route, RouteStatus>(cluster.ctx, {
      kind: ROUTES,
      cache: cluster.ctx.world.routes,
      reconcileKind: () => Promise.resolve({ status: READY }),
    });
    await expect(reconciler.reconcile('ns/hello')).rejects.toThrow();
    expect(cluster.events).toEqual([
      event('Warning', 'UpdateFailed', 'Failed to update status for "hello": status.url: Invalid value'),
    ]);
  });
});

describe('KindReconciler with a finalizer', () => {
  const finalized: string[] = [];
  const finalizer = {
    name: 'routes.serving.knative.dev',
    finalizeKind: (r: Route) => {
      finalized.push(r.metadata.name ?? '');
      return Promise.resolve();
    },
  };

  it('adds the finalizer on the version read, keeping others, and reconciles the patched object', async () => {
    let seen: Route | undefined;
    const { cluster, run } = setup(
      route({ finalizers: ['someone.else/cleanup'] }),
      (r) => {
        seen = r;
        return Promise.resolve({});
      },
      finalizer,
    );
    await run();
    expect(cluster.writes).toEqual([
      {
        verb: 'patch',
        kind: 'serving.knative.dev/Route',
        key: 'ns/hello',
        body: {
          metadata: {
            finalizers: ['someone.else/cleanup', 'routes.serving.knative.dev'],
            resourceVersion: '7',
          },
        },
      },
    ]);
    expect(seen?.metadata.finalizers).toEqual(['someone.else/cleanup', 'routes.serving.knative.dev']);
  });

  it('leaves an object that has it alone', async () => {
    const { cluster, run } = setup(
      route({ finalizers: ['routes.serving.knative.dev'] }),
      () => Promise.resolve({}),
      finalizer,
    );
    await run();
    expect(cluster.writes).toEqual([]);
  });

  it('finalizes an object being deleted, then removes only its own finalizer', async () => {
    finalized.length = 0;
    let reconciled = false;
    const { cluster, run } = setup(
      route({
        deletionTimestamp: '2026-01-02T00:00:00Z',
        finalizers: ['routes.serving.knative.dev', 'someone.else/cleanup'],
      }),
      () => {
        reconciled = true;
        return Promise.resolve({});
      },
      finalizer,
    );
    expect(await run()).toBeUndefined();
    expect(finalized).toEqual(['hello']);
    expect(reconciled).toBe(false);
    expect(cluster.writes).toEqual([
      {
        verb: 'patch',
        kind: 'serving.knative.dev/Route',
        key: 'ns/hello',
        body: { metadata: { finalizers: ['someone.else/cleanup'], resourceVersion: '7' } },
      },
    ]);
  });

  it('does nothing for an object being deleted without its finalizer', async () => {
    finalized.length = 0;
    const { cluster, run } = setup(
      route({ deletionTimestamp: '2026-01-02T00:00:00Z' }),
      () => Promise.resolve({}),
      finalizer,
    );
    await run();
    expect(finalized).toEqual([]);
    expect(cluster.writes).toEqual([]);
  });

  it('keeps the finalizer when finalizing fails, so the deletion waits for a retry', async () => {
    const { cluster, run } = setup(
      route({ deletionTimestamp: '2026-01-02T00:00:00Z', finalizers: ['routes.serving.knative.dev'] }),
      () => Promise.resolve({}),
      { name: 'routes.serving.knative.dev', finalizeKind: () => Promise.reject(apiError(500, 'no')) },
    );
    await expect(run()).rejects.toThrow();
    expect(cluster.writes).toEqual([]);
    expect(cluster.events).toEqual([event('Warning', 'InternalError', 'no')]);
  });
});
