// Which gateway replica admits requests to which pod, when containerConcurrency limits pods.
// ebb has no queue-proxy in the pod to enforce the limit, so the gateways must: each pod is owned
// by exactly one replica, the only one that sends it requests, and a replica that owns no pod of a
// revision passes that revision's requests to one that does (over the peer port). The owner is
// chosen by rendezvous hashing (highest weight of pod and replica), so that pods coming and going
// never move the others: only a change in the set of replicas does, and a replica that gains a pod
// that way waits HANDOFF_MS before using it (revision-backend.ts). Pure.

/** How long a replica waits before using a pod another replica owned until the replica set changed. */
export const HANDOFF_MS = 2000;

/** FNV-1a, 32 bits: cheap, and spread well enough for a handful of replicas. */
function weight(pod: string, gateway: string): number {
  let h = 0x811c9dc5;
  const key = `${pod}|${gateway}`;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The replica (its peer address) that owns `pod` among `gateways`; undefined when there are none. */
export function podOwner(pod: string, gateways: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const g of gateways) {
    const w = weight(pod, g);
    if (w > bestWeight || (w === bestWeight && best !== undefined && g < best)) {
      best = g;
      bestWeight = w;
    }
  }
  return best;
}

export interface Ownership {
  /** The pods this replica sends requests to itself. */
  owned: string[];
  /** The other replicas that own pods of the revision, for requests this replica passes on. */
  owners: string[];
}

/**
 * This replica's pods of a revision, and the other replicas that own the rest. Every pod is this
 * replica's when nothing needs sharing: no concurrency limit, or no other replica known. A replica
 * that is not among the ready ones (starting, or draining) owns none while others are known.
 */
export function podOwnership(
  pods: readonly string[],
  self: string,
  gateways: readonly string[],
  containerConcurrency: number,
): Ownership {
  const sorted = [...new Set(pods)].sort();
  const others = gateways.filter((g) => g !== self);
  if (containerConcurrency === 0 || others.length === 0) return { owned: sorted, owners: [] };
  const owned: string[] = [];
  const owners = new Set<string>();
  for (const pod of sorted) {
    const owner = podOwner(pod, gateways.includes(self) ? gateways : others);
    if (owner === self) owned.push(pod);
    else if (owner !== undefined) owners.add(owner);
  }
  return { owned, owners: [...owners].sort() };
}

/** The breaker's capacity for pods this replica owns: containerConcurrency each, unbounded for 0. */
export function revisionCapacity(containerConcurrency: number, ownedPods: number): number {
  if (ownedPods <= 0) return 0;
  if (containerConcurrency === 0) return Infinity;
  return containerConcurrency * ownedPods;
}
