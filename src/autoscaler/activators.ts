// How many gateway replicas a revision's traffic should be spread over while the gateway buffers
// for it (Knative's computeNumActivators; ebb's gateway replicas play the activator's role).

/** Never fewer than this, for availability. */
export const MIN_ACTIVATORS = 2;

export interface ActivatorInput {
  readyPods: number;
  /** DeciderSpec.totalValue: the load one pod can take. */
  totalValue: number;
  targetBurstCapacity: number;
  /** config-autoscaler activator-capacity: the load one gateway replica takes for a revision. */
  activatorCapacity: number;
}

/** Enough replicas to carry the ready pods' full capacity plus the burst capacity. With TBC 0 the
 * gateway is not buffering for capacity, so the minimum does. The caller caps it at the number of
 * gateway replicas. */
export function numActivators(input: ActivatorInput): number {
  if (input.targetBurstCapacity === 0) return MIN_ACTIVATORS;
  const capacity = input.readyPods * input.totalValue + Math.max(input.targetBurstCapacity, 0);
  return Math.max(MIN_ACTIVATORS, Math.ceil(capacity / input.activatorCapacity));
}
