// Chooses the pod for one admitted request, after Knative's activator lb_policy.go: random choice
// of two for containerConcurrency 0, first available for 1..3, round robin over pods with a free
// slot above that. A pick is a held slot (PodReservation) or undefined when every pod is full.
import type { PodReservation, PodTracker } from './pod-trackers.ts';
import type { RandomSource } from './traffic-pick.ts';

export interface LBPolicy {
  pick(trackers: readonly PodTracker[]): PodReservation | undefined;
}

/** Of two distinct random pods, the one with fewer requests in flight; a tie is a coin toss. */
export class RandomChoiceOfTwo implements LBPolicy {
  readonly #random: RandomSource;

  constructor(random: RandomSource = Math.random) {
    this.#random = random;
  }

  pick(trackers: readonly PodTracker[]): PodReservation | undefined {
    const n = trackers.length;
    if (n === 0) return undefined;
    if (n === 1) return trackers[0]?.tryReserve();
    let i = 0;
    let j = 1;
    if (n > 2) {
      i = Math.floor(this.#random() * n);
      // Drawn from the n - 1 other indices.
      j = Math.floor(this.#random() * (n - 1));
      if (j >= i) j++;
    }
    let pick = trackers[i];
    let alt = trackers[j];
    if (pick === undefined || alt === undefined) return undefined;
    if (pick.inFlight > alt.inFlight || (pick.inFlight === alt.inFlight && this.#random() < 0.5)) {
      [pick, alt] = [alt, pick];
    }
    return pick.tryReserve() ?? alt.tryReserve();
  }
}

/** The first pod in order with a free slot: keeps a few pods hot when each takes 1..3 requests. */
export class FirstAvailable implements LBPolicy {
  pick(trackers: readonly PodTracker[]): PodReservation | undefined {
    for (const t of trackers) {
      const r = t.tryReserve();
      if (r !== undefined) return r;
    }
    return undefined;
  }
}

/** The next pod with a free slot after the last one picked. */
export class RoundRobin implements LBPolicy {
  #next = 0;

  pick(trackers: readonly PodTracker[]): PodReservation | undefined {
    const n = trackers.length;
    // The set may have shrunk since the last pick.
    if (this.#next >= n) this.#next = 0;
    for (let k = 0; k < n; k++) {
      const p = (this.#next + k) % n;
      const r = trackers[p]?.tryReserve();
      if (r !== undefined) {
        this.#next = p + 1;
        return r;
      }
    }
    return undefined;
  }
}

export function lbPolicyFor(containerConcurrency: number, random: RandomSource = Math.random): LBPolicy {
  if (containerConcurrency === 0) return new RandomChoiceOfTwo(random);
  if (containerConcurrency <= 3) return new FirstAvailable();
  return new RoundRobin();
}
