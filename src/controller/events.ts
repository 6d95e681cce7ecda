// Kubernetes Events for meaningful transitions (a Revision created, a Configuration failing), so
// `kubectl describe` tells the story. Recording never fails a reconcile: errors are logged, and the
// same event for the same object is sent at most once per ten minutes, and at most a few are in
// flight at once (the rest wait, up to a bound), so events never compete with reconciles for the
// API server.
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiMessage } from './kube.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

const DEDUP_MS = 10 * 60_000;
const MAX_REMEMBERED = 10_000;
const MAX_IN_FLIGHT = 2;
const MAX_PENDING = 1_000;

export class EventRecorder {
  private readonly core: CoreV1Api;
  private readonly component: string;
  private readonly log: Logger;
  private readonly host: string;
  private readonly recent = new Map<string, number>();
  private readonly pending: CoreV1Event[] = [];
  private inFlight = 0;
  private dropped = 0;

  constructor(core: CoreV1Api, component: string, log: Logger, host = '') {
    this.core = core;
    this.component = component;
    this.log = log;
    this.host = host;
  }

  event(target: EventTarget, type: EventType, reason: string, message: string): void {
    const { namespace = 'default', name = '', uid = '' } = target.metadata;
    const key = `${uid}\u0000${reason}\u0000${message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < DEDUP_MS) return;
    this.recent.delete(key);
    this.recent.set(key, now);
    if (this.recent.size > MAX_REMEMBERED) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    const time = new Date(now);
    const body: CoreV1Event = {
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name,
        namespace,
        uid,
        resourceVersion: target.metadata.resourceVersion,
      },
      type,
      reason,
      message,
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(body);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT) {
      const body = this.pending.shift();
      if (body === undefined) return;
      this.inFlight++;
      const namespace = body.metadata.namespace ?? 'default';
      this.core
        .createNamespacedEvent({ namespace, body })
        .catch((error: unknown) => {
          const { kind, name } = body.involvedObject;
          this.log.debug(
            { error: apiMessage(error), kind, namespace, name, reason: body.reason },
            'could not record event',
          );
        })
        .finally(() => {
          this.inFlight--;
          if (this.dropped > 0 && this.pending.length === 0) {
            this.log.warn({ dropped: this.dropped }, 'events dropped: too many waiting');
            this.dropped = 0;
          }
          this.pump();
        });
    }
  }
}
