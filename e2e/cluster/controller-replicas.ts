// The installed controller's replicas and which one leads, read from the cluster: shared by the
// failover suite and `npm run bench:failover`.
import type { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { NAMESPACE } from './release.ts';

export const CONTROLLER_LEASE = 'ebb-controller';

/** The Lease holder: the leading replica's pod name; undefined while nobody holds it (a leader
 * that stops cleanly releases the Lease by emptying its holder). */
export async function controllerLeader(coordination: CoordinationV1Api): Promise<string | undefined> {
  const lease = await coordination.readNamespacedLease({ namespace: NAMESPACE, name: CONTROLLER_LEASE });
  const holder = lease.spec?.holderIdentity ?? '';
  return holder === '' ? undefined : holder;
}

/** Controller pods that are Ready and not being deleted. */
export async function readyControllerPods(core: CoreV1Api): Promise<string[]> {
  const pods = await core.listNamespacedPod({
    namespace: NAMESPACE,
    labelSelector: 'app.kubernetes.io/component=controller',
  });
  return pods.items
    .filter(
      (p) =>
        p.metadata?.deletionTimestamp == null &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
    )
    .map((p) => p.metadata?.name ?? '');
}

/** Deletes a pod with no grace period: the API server forgets it at once, and the kubelet stops
 * its container with the shortest grace it allows, so the replica may or may not release its
 * Lease before it dies; either way the other one must take over. */
export async function killPod(core: CoreV1Api, pod: string): Promise<void> {
  await core.deleteNamespacedPod({ namespace: NAMESPACE, name: pod, body: { gracePeriodSeconds: 0 } });
}
