// Leader election on a coordination.k8s.io Lease, with client-go's rules (the client library has
// none): a candidate takes the lease when it is free or its holder has not renewed it for the lease
// duration, measured on the candidate's own clock from when it last saw the record change, so clock
// skew between replicas does not matter. The leader renews every retry period and steps down if it
// cannot renew within the renew deadline, counted from when its last successful renewal was sent
// and enforced by a timer of its own, so a call that hangs cannot keep it leading past the lease:
// the renew deadline is shorter than the lease duration, the margin for a standby to take over.
// Stopping releases the lease so a standby takes over at once; a crashed leader is replaced after
// the lease duration.
import {
  PatchStrategy,
  setHeaderOptions,
  type CoordinationV1Api,
  type V1Lease,
} from '@kubernetes/client-node';
import { withDeadline } from './kubeconfig.ts';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface Record {
  holder: string;
  durationMs: number;
  resourceVersion: string;
  transitions: number;
  acquireTime?: string;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly config: Required<Omit<LeaderElectionConfig, 'onNewLeader'>> &
    Pick<LeaderElectionConfig, 'onNewLeader'>;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** Steps down when no renewal has succeeded within the renew deadline. */
  private expiry: NodeJS.Timeout | undefined;
  private observed = '';
  private observedAt = 0;
  private lastLeader = '';

  constructor(api: CoordinationV1Api, config: LeaderElectionConfig) {
    this.api = api;
    this.config = { leaseDurationMs: 10_000, renewDeadlineMs: 8_000, retryPeriodMs: 2_000, ...config };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.config.retryPeriodMs);
  }

  private async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch {
      // A failed round counts against the renew deadline, which the expiry timer enforces.
    }
    this.schedule();
  }

  private async read(): Promise<Record | undefined> {
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease(
        { name: this.config.name, namespace: this.config.namespace },
        withDeadline(this.config.renewDeadlineMs),
      );
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
    const spec = lease.spec ?? {};
    const record: Record = {
      holder: spec.holderIdentity ?? '',
      durationMs: (spec.leaseDurationSeconds ?? 0) * 1000,
      resourceVersion: lease.metadata?.resourceVersion ?? '',
      transitions: spec.leaseTransitions ?? 0,
      ...(spec.acquireTime === undefined ? {} : { acquireTime: microTime(new Date(spec.acquireTime)) }),
    };
    // The record changed (a renewal or a new holder): restart the expiry clock from now.
    const fingerprint = `${record.holder}/${spec.renewTime === undefined ? '' : new Date(spec.renewTime).getTime()}`;
    if (fingerprint !== this.observed) {
      this.observed = fingerprint;
      this.observedAt = Date.now();
    }
    return record;
  }

  private async write(record: Record | undefined, now: Date): Promise<void> {
    const { namespace, name, identity } = this.config;
    if (record === undefined) {
      await this.api.createNamespacedLease(
        {
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { leaseTransitions: 0 },
          },
        },
        withDeadline(this.config.renewDeadlineMs),
      );
    }
    const takeover = record?.holder !== identity;
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.config.leaseDurationMs / 1000),
      renewTime: microTime(now),
      acquireTime: takeover ? microTime(now) : (record.acquireTime ?? microTime(now)),
      leaseTransitions:
        takeover && record !== undefined && record.holder !== ''
          ? record.transitions + 1
          : (record?.transitions ?? 0),
    };
    // resourceVersion in a merge patch makes it conditional: two candidates cannot both win.
    const metadata = record === undefined ? {} : { resourceVersion: record.resourceVersion };
    await this.api.patchNamespacedLease(
      { name, namespace, body: { metadata, spec } },
      withDeadline(this.config.renewDeadlineMs, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const record = await this.read();
    const { identity } = this.config;
    if (record !== undefined && record.holder !== this.lastLeader && record.holder !== '') {
      this.lastLeader = record.holder;
      this.config.onNewLeader?.(record.holder);
    }
    const heldByOther = record !== undefined && record.holder !== '' && record.holder !== identity;
    if (heldByOther && Date.now() < this.observedAt + record.durationMs) {
      if (this.leading) this.stepDown();
      return;
    }
    const sent = new Date();
    await this.write(record, sent);
    // The renewal counts from when it was sent: the API server may have applied it any time after.
    const left = sent.getTime() + this.config.renewDeadlineMs - Date.now();
    if (this.stopped || left <= 0) return;
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      this.stepDown();
    }, left);
    if (!this.leading) {
      this.leading = true;
      this.lastLeader = identity;
      this.config.onStartedLeading();
    }
  }

  private stepDown(): void {
    clearTimeout(this.expiry);
    if (!this.leading) return;
    this.leading = false;
    this.config.onStoppedLeading();
  }

  /** Stops campaigning; a leader releases the lease (unless `release` is false, as in a crash). */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (!this.leading) return;
    if (release) {
      const record = await this.read().catch(() => undefined);
      if (record?.holder === this.config.identity) {
        await this.api
          .patchNamespacedLease(
            {
              name: this.config.name,
              namespace: this.config.namespace,
              body: {
                metadata: { resourceVersion: record.resourceVersion },
                spec: { holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
              },
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          )
          .catch(() => undefined);
      }
    }
    this.stepDown();
  }
}
