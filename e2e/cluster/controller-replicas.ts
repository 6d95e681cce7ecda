// The installed controller's replicas and which one leads, read from the cluster: shared by the
// failover suite and `npm run bench:failover`.
import type { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { NAMESPACE } from './release.ts';

export const CONTROLLER_LEASE = 'ebb-controller';

/** The Lease holder: the leading replica's pod name. */
export async function controllerLeader(coordination: CoordinationV1Api): Promise<string | undefined> {
  const lease = await coordination.readNamespacedLease({ namespace: NAMESPACE, name: CONTROLLER_LEASE });
  return lease.spec?.holderIdentity ?? undefined;
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

/** Deletes a pod with no grace period: it cannot release its lease or finish its work. */
export async function killPod(core: CoreV1Api, pod: string): Promise<void> {
  await core.deleteNamespacedPod({ namespace: NAMESPACE, name: pod, body: { gracePeriodSeconds: 0 } });
}
