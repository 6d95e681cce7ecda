// One revision as the gateway sees it: its pods (ready per the EndpointSlices, or found ready by
// our own probe while the slices still say starting), the pods this replica owns when
// containerConcurrency limits pods (pod-ownership.ts) and the replicas that own the others, the
// bounded queue of requests waiting for room, and the load-balancing policy that picks a pod.
// `reserve` is the whole admission path of a request: a slot on an owned pod, or, when this
// replica owns none while others do, a pass to one of those replicas, which admits it there.
import type { Revision } from '../apis/serving/v1/revision-types.ts';
import { Breaker } from './breaker.ts';
import type { RevisionEndpoints } from './endpoints.ts';
import { lbPolicyFor, RandomChoiceOfTwo, type LBPolicy } from './lb-policy.ts';
import { HANDOFF_MS, podOwnership, revisionCapacity } from './pod-ownership.ts';
import { PodTrackerSet, type PodReservation } from './pod-trackers.ts';
import { StartingPodProber, type ProbeSpec } from './prober.ts';

/** What a request to this revision may take, from its spec (Knative's defaults when unset). */
export interface RevisionSettings {
  containerConcurrency: number;
  timeoutMs: number;
  /** 0: no limit (exchange-timeouts.ts). */
  responseStartTimeoutMs: number;
  /** 0: no limit. */
  idleTimeoutMs: number;
  probe: ProbeSpec;
  /** From the revision's `ebb.dev/queue-depth` annotation; at most the gateway's own depth. */
  queueDepth?: number;
}

const DEFAULT_TIMEOUT_S = 300;

/** How long a pod that refused a connection gets no new requests, unless the slices drop it first. */
export const SET_ASIDE_MS = 2000;

/** ebb's own per-revision knob (Knative has none): how many requests may wait for a pod. */
export const QUEUE_DEPTH_ANNOTATION = 'ebb.dev/queue-depth';

export function revisionSettings(rev: Revision | undefined): RevisionSettings {
  const spec = rev?.spec;
  const timeout = spec?.timeoutSeconds ?? DEFAULT_TIMEOUT_S;
  const serving = spec?.containers?.find((c) => (c.ports ?? []).length > 0) ?? spec?.containers?.[0];
  const http = serving?.readinessProbe?.httpGet;
  const probePort = typeof http?.port === 'number' && http.port > 0 ? http.port : undefined;
  const depth = rev?.metadata.annotations?.[QUEUE_DEPTH_ANNOTATION];
  const queueDepth = depth !== undefined && /^\d+$/.test(depth) ? Number(depth) : undefined;
  return {
    ...(queueDepth === undefined ? {} : { queueDepth }),
    containerConcurrency: spec?.containerConcurrency ?? 0,
    timeoutMs: timeout * 1000,
    // As Knative's activator reads them: unset (the webhook leaves them unset unless config-defaults
    // sets them) or 0, no timer.
    responseStartTimeoutMs: (spec?.responseStartTimeoutSeconds ?? 0) * 1000,
    idleTimeoutMs: (spec?.idleTimeoutSeconds ?? 0) * 1000,
    probe:
      http === undefined
        ? { kind: 'tcp' }
        : { kind: 'http', path: http.path ?? '/', ...(probePort === undefined ? {} : { port: probePort }) },
  };
}

/** The gateway replicas, by the address of their peer listener (`ip:port`). */
export interface Peers {
  self: string;
  /** The ready replicas, this one included when it is ready. */
  gateways: readonly string[];
  /** Date.now() when the set of replicas last changed: pods change owner only then. */
  changedAt: number;
}

/** Waiters leave the queue to be passed to a replica that owns pods (reserve() picks again). */
class Rerouted extends Error {
  constructor() {
    super('rerouted to a replica that owns pods');
  }
}

export class RevisionBackend {
  readonly key: string;
  settings: RevisionSettings;
  private readonly breaker: Breaker;
  private readonly defaultQueueDepth: number;
  private trackers: PodTrackerSet;
  private policy: LBPolicy;
  private readonly prober: StartingPodProber;
  private endpoints: RevisionEndpoints = { ready: [], starting: [], terminating: [] };
  /** Starting pods that passed our probe before the slices caught up. */
  private readonly probed = new Set<string>();
  /** Pods that refused a connection (most likely leaving before their slice says so). */
  private readonly setAsidePods = new Map<string, NodeJS.Timeout>();
  private peers: Peers = { self: '', gateways: [], changedAt: 0 };
  /** The replicas this one passes requests to while it owns no pod (capacity unbounded: they queue). */
  private readonly owners = new PodTrackerSet(0, true);
  private readonly ownerPolicy = new RandomChoiceOfTwo();
  /** Pods owned at the last recompute (undefined before the first), and pods not to use yet. */
  private owned: Set<string> | undefined;
  private readonly handoffs = new Map<string, NodeJS.Timeout>();
  /** The ready pods at the last recompute: a pod not among them is new, and no replica used it. */
  private known = new Set<string>();
  /** When the revision last had no pod while a request waited: the start of a cold start. */
  lastUsed = 0;

  constructor(key: string, settings: RevisionSettings, queueDepth: number) {
    this.key = key;
    this.settings = settings;
    this.defaultQueueDepth = queueDepth;
    this.breaker = new Breaker({ capacity: 0, queueDepth: this.depthFor(settings) });
    this.trackers = new PodTrackerSet(settings.containerConcurrency);
    this.policy = lbPolicyFor(settings.containerConcurrency);
    this.prober = new StartingPodProber((address) => {
      this.probed.add(address);
      this.recompute();
    });
  }

  /** A revision may only lower the gateway's depth, which bounds the gateway's memory. */
  private depthFor(settings: RevisionSettings): number {
    return Math.min(settings.queueDepth ?? this.defaultQueueDepth, this.defaultQueueDepth);
  }

  /** Ready pods this replica may use now. */
  get readyPods(): number {
    return this.trackers.ready.length;
  }

  /** Requests can go somewhere now: to an owned pod, or to a replica that owns one. */
  get serving(): boolean {
    return this.trackers.ready.length > 0 || this.owners.ready.length > 0;
  }

  get waiting(): number {
    return this.breaker.waiting;
  }

  get inFlight(): number {
    return this.breaker.inFlight;
  }

  setSettings(settings: RevisionSettings): void {
    const ccChanged = settings.containerConcurrency !== this.settings.containerConcurrency;
    this.settings = settings;
    this.breaker.setQueueDepth(this.depthFor(settings));
    if (ccChanged) {
      // Requests in flight keep their reservations on the old trackers; new ones use the new limit.
      this.trackers = new PodTrackerSet(settings.containerConcurrency);
      this.policy = lbPolicyFor(settings.containerConcurrency);
    }
    this.recompute();
  }

  setEndpoints(endpoints: RevisionEndpoints): void {
    this.endpoints = endpoints;
    const starting = new Set(endpoints.starting);
    for (const address of this.probed) if (!starting.has(address)) this.probed.delete(address);
    const known = new Set([...endpoints.ready, ...this.probed]);
    for (const [address, timer] of this.setAsidePods) {
      if (known.has(address)) continue;
      clearTimeout(timer);
      this.setAsidePods.delete(address);
    }
    this.prober.set(
      endpoints.starting.filter((a) => !this.probed.has(a)),
      this.settings.probe,
    );
    this.recompute();
  }

  /**
   * A pod refused a connection: no new requests go to it for SET_ASIDE_MS, or until the slices
   * drop it, so a retry lands elsewhere. Its requests in flight are left alone.
   */
  setAside(address: string): void {
    if (this.setAsidePods.has(address)) return;
    this.holdOut(this.setAsidePods, address, SET_ASIDE_MS);
    this.recompute();
  }

  /** Keeps `pod` in `held` (out of use) for `ms`, then looks at the pods again. */
  private holdOut(held: Map<string, NodeJS.Timeout>, pod: string, ms: number): void {
    const timer = setTimeout(() => {
      held.delete(pod);
      this.recompute();
    }, ms);
    timer.unref();
    held.set(pod, timer);
  }

  setPeers(peers: Peers): void {
    const same =
      peers.self === this.peers.self &&
      peers.gateways.length === this.peers.gateways.length &&
      peers.gateways.every((g, i) => g === this.peers.gateways[i]);
    if (same) return;
    this.peers = { self: peers.self, gateways: [...peers.gateways].sort(), changedAt: peers.changedAt };
    this.recompute();
  }

  /**
   * A slot now, when the revision has room and nobody queues ahead; undefined otherwise (then
   * reserve() waits). The warm path: no promise, no abort signal. `local`: only an owned pod will
   * do (a request another replica passed here is never passed on again).
   */
  tryReserve(local = false): PodReservation | undefined {
    if (!local && this.forwarding) return this.ownerPolicy.pick(this.owners.ready);
    if (!this.breaker.tryAcquire()) return undefined;
    const reservation = this.policy.pick(this.trackers.ready);
    if (reservation === undefined) this.breaker.release();
    return reservation;
  }

  /**
   * A pod with room for one more request (or, unless `local`, a replica that owns one), waiting
   * in the revision's queue while there is none. Rejects with QueueFullError when the queue is
   * full and with the signal's reason on abort.
   */
  async reserve(signal: AbortSignal, local = false): Promise<PodReservation> {
    for (;;) {
      if (!local && this.forwarding) {
        const pass = this.ownerPolicy.pick(this.owners.ready);
        if (pass !== undefined) return pass;
      }
      try {
        await this.breaker.acquire(signal);
      } catch (error) {
        if (error instanceof Rerouted) continue;
        throw error;
      }
      const reservation = this.policy.pick(this.trackers.ready);
      if (reservation !== undefined) return reservation;
      // The breaker had room but no pod did (pods changed under us): queue again.
      this.breaker.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  release(reservation: PodReservation): void {
    reservation.release();
    if (!reservation.tracker.peer) this.breaker.release();
  }

  /** Stops probing and fails whatever waits; the revision is gone. */
  close(reason: Error): void {
    this.prober.stop();
    for (const timer of this.setAsidePods.values()) clearTimeout(timer);
    this.setAsidePods.clear();
    for (const timer of this.handoffs.values()) clearTimeout(timer);
    this.handoffs.clear();
    this.breaker.rejectAll(reason);
  }

  /** This replica owns no usable pod, and other replicas own some: requests go to them. */
  private get forwarding(): boolean {
    return this.trackers.ready.length === 0 && this.owners.ready.length > 0;
  }

  private recompute(): void {
    const ready = [...this.endpoints.ready, ...this.probed].filter((a) => !this.setAsidePods.has(a));
    const cc = this.settings.containerConcurrency;
    const { owned, owners } = podOwnership(ready, this.peers.self, this.peers.gateways, cc);
    // A pod that was another replica's until the replica set changed may still carry that
    // replica's requests: it is used from HANDOFF_MS after the change on. A pod that just became
    // ready is nobody's yet; on the first recompute any pod may have been another's.
    const wait = this.peers.changedAt + HANDOFF_MS - Date.now();
    for (const pod of owned) {
      if (wait <= 0 || this.handoffs.has(pod)) continue;
      if (this.owned !== undefined && (this.owned.has(pod) || !this.known.has(pod))) continue;
      this.holdOut(this.handoffs, pod, wait);
    }
    for (const [pod, timer] of this.handoffs) {
      if (owned.includes(pod) && wait > 0) continue;
      clearTimeout(timer);
      this.handoffs.delete(pod);
    }
    this.owned = new Set(owned);
    this.known = new Set(ready);
    const usable = owned.filter((pod) => !this.handoffs.has(pod));
    this.trackers.update(usable);
    this.owners.update(usable.length === 0 ? owners : []);
    this.breaker.setCapacity(revisionCapacity(cc, usable.length));
    // Requests waiting for an owned pod go to a replica that owns one instead.
    if (this.forwarding && this.breaker.waiting > 0) this.breaker.rejectAll(new Rerouted());
  }
}
