// Shares a revision's pods and capacity among gateway replicas, after the subsetting in Knative's
// activator throttler: each replica finds its index among the sorted gateway IPs and takes its own
// slice of the sorted pods, so replicas do not overload the same pod. Only for containerConcurrency
// > 0; with no limit every replica uses every pod.

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** This replica's position among the ready gateway IPs in sorted order, or -1 when absent. */
export function gatewayIndex(selfIP: string, gatewayIPs: Iterable<string>): number {
  const sorted = [...new Set(gatewayIPs)].sort(byCodeUnit);
  return sorted.indexOf(selfIP);
}

/**
 * The pods (`ip:port`, any order) this replica sends requests to, sorted. With n pods and k
 * replicas, replica i takes pods [i·⌊n/k⌋, (i+1)·⌊n/k⌋) plus, when i < n mod k, the i-th of the
 * n mod k leftover pods at the end. Fewer pods than replicas: pod i mod n. A replica not (yet) in
 * the gateway endpoints (index -1), a single replica, a single pod or containerConcurrency 0: all.
 */
export function assignPods(
  pods: Iterable<string>,
  selfIndex: number,
  gatewayCount: number,
  containerConcurrency: number,
): string[] {
  const sorted = [...new Set(pods)].sort(byCodeUnit);
  const n = sorted.length;
  const k = gatewayCount;
  if (containerConcurrency === 0 || selfIndex < 0 || k <= 1 || n <= 1) return sorted;
  if (k > n) return sorted.slice(selfIndex % n, (selfIndex % n) + 1);
  const size = Math.floor(n / k);
  const assigned = sorted.slice(selfIndex * size, (selfIndex + 1) * size);
  const remnants = n % k;
  const leftover = selfIndex < remnants ? sorted[n - remnants + selfIndex] : undefined;
  if (leftover !== undefined) assigned.push(leftover);
  return assigned;
}

export type CapacityInput =
  | {
      /** Requests go straight to pod IPs (ebb's normal path). */
      routing: 'pods';
      containerConcurrency: number;
      /** Pods assignPods gave this replica. */
      assignedPods: number;
    }
  | {
      /** Requests go through the revision's ClusterIP Service, so pods cannot be sliced. */
      routing: 'cluster-ip';
      containerConcurrency: number;
      readyBackends: number;
      gatewayCount: number;
    };

/**
 * This replica's breaker capacity for a revision: containerConcurrency × assigned pods, or through a
 * ClusterIP an equal share (at least 1) of containerConcurrency × backends. Infinity when
 * containerConcurrency is 0 and some pod is there; 0 when none is.
 */
export function revisionCapacity(input: CapacityInput): number {
  const cc = input.containerConcurrency;
  const backends = input.routing === 'pods' ? input.assignedPods : input.readyBackends;
  if (backends <= 0) return 0;
  if (cc === 0) return Infinity;
  if (input.routing === 'pods') return cc * backends;
  return Math.max(1, Math.floor((cc * backends) / Math.max(1, input.gatewayCount)));
}
