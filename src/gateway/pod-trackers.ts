// A revision's pods as the gateway sees them, after Knative's activator podTracker: per pod its
// address and requests in flight, and (when containerConcurrency > 0) how many it may hold. Fed the
// ready endpoints; pods that leave get no new requests while their in-flight ones finish.

/** One slot held on a pod. release() gives it back; later calls do nothing. */
export class PodReservation {
  readonly tracker: PodTracker;
  #released = false;

  constructor(tracker: PodTracker) {
    this.tracker = tracker;
  }

  get released(): boolean {
    return this.#released;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.tracker.unreserve();
  }
}

export class PodTracker {
  /** `ip:port`. */
  readonly dest: string;
  /** Requests the pod may hold at once (containerConcurrency); 0 means no limit. */
  readonly capacity: number;
  /** Not a pod but another gateway replica's peer listener, which admits the request to its pods. */
  readonly peer: boolean;
  #inFlight = 0;

  constructor(dest: string, capacity: number, peer = false) {
    this.dest = dest;
    this.capacity = capacity;
    this.peer = peer;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get hasFreeSlot(): boolean {
    return this.capacity === 0 || this.#inFlight < this.capacity;
  }

  /** A slot on this pod, or undefined when it is full. */
  tryReserve(): PodReservation | undefined {
    if (!this.hasFreeSlot) return undefined;
    this.#inFlight++;
    return new PodReservation(this);
  }

  /** For PodReservation.release only, which guarantees one call per reservation. */
  unreserve(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }
}

export interface PodSetChange {
  added: string[];
  removed: string[];
}

function byDest(a: PodTracker, b: PodTracker): number {
  return a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0;
}

export class PodTrackerSet {
  readonly containerConcurrency: number;
  /** Ready pods, sorted by dest. */
  #ready: readonly PodTracker[] = [];
  /** Pods that left with requests still in flight, kept so a pod that returns keeps its count. */
  readonly #departed = new Map<string, PodTracker>();

  /** Trackers of gateway replicas rather than pods (PodTracker.peer). */
  readonly peers: boolean;

  constructor(containerConcurrency: number, peers = false) {
    if (!Number.isInteger(containerConcurrency) || containerConcurrency < 0) {
      throw new RangeError(`containerConcurrency: expected a whole number >= 0, got ${containerConcurrency}`);
    }
    this.containerConcurrency = containerConcurrency;
    this.peers = peers;
  }

  /** The pods that may take new requests, sorted by dest. */
  get ready(): readonly PodTracker[] {
    return this.#ready;
  }

  /** Requests still running on pods that are no longer ready. */
  get departedInFlight(): number {
    let n = 0;
    for (const t of this.#departed.values()) n += t.inFlight;
    return n;
  }

  get(dest: string): PodTracker | undefined {
    return this.#ready.find((t) => t.dest === dest);
  }

  /** Replaces the ready set with `dests` (`ip:port` of ready, not terminating, endpoints). */
  update(dests: Iterable<string>): PodSetChange {
    const current = new Map(this.#ready.map((t) => [t.dest, t]));
    const next: PodTracker[] = [];
    const added: string[] = [];
    for (const dest of new Set(dests)) {
      let tracker = current.get(dest);
      if (tracker === undefined) {
        tracker = this.#departed.get(dest) ?? new PodTracker(dest, this.containerConcurrency, this.peers);
        this.#departed.delete(dest);
        added.push(dest);
      }
      current.delete(dest);
      next.push(tracker);
    }
    for (const [dest, tracker] of this.#departed) if (tracker.inFlight === 0) this.#departed.delete(dest);
    const removed: string[] = [];
    for (const [dest, tracker] of current) {
      removed.push(dest);
      if (tracker.inFlight > 0) this.#departed.set(dest, tracker);
    }
    this.#ready = Object.freeze(next.sort(byDest));
    return { added: added.sort(), removed: removed.sort() };
  }
}
