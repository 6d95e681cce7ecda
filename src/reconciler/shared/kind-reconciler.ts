// The part of every reconciler that knative.dev/pkg generates: look the key up, keep the kind's
// finalizer (if it has one) and run its FinalizeKind on deletion, run ReconcileKind, write the
// status it computed only if that changes anything (the StatusWriter's job), and send the events
// for the outcome. Each kind writes only ReconcileKind: make the world match the spec, and say
// what it saw.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ObjectMeta } from '../../apis/meta/v1.ts';
import type { EventRecorder, EventType } from '../../controller/events.ts';
import {
  apiMessage,
  isConflict,
  isNamespaceTerminating,
  isNotFound,
  type CustomKind,
  type CustomResources,
} from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import type { StatusWriter } from '../status.ts';
import { ChildCreationFailed } from './reconcile-child.ts';

/** What the wrapper needs of the reconciler's context. */
export interface KindContext {
  status: StatusWriter;
  custom: Pick<CustomResources, 'patch'>;
  events: Pick<EventRecorder, 'event'>;
}

export interface KindEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** What ReconcileKind found. */
export interface KindOutcome<S> {
  /** The status to write; none leaves the stored one as it is. */
  status?: S;
  /** The status only reports progress, and may be held back (see StatusWriter). */
  progressOnly?: boolean;
  /**
   * Children were just created. A new generation's children report nothing yet, and their ADDED
   * events bring the object back within the coalescing delay: its first status is written then,
   * with something to say.
   */
  childrenCreated?: boolean;
  /** Events for the transitions this status reports: sent only when it is written. */
  events?: readonly KindEvent[];
  /** Reconcile again after this long. */
  requeueAfterMs?: number;
  /** The reconcile failed, but the status says why and is written first; then the error is
   * reported (an InternalError event) and the key retried with back-off, as Knative does. */
  error?: Error;
}

export interface Reconciled<S extends object> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  status?: S;
}

export interface KindSpec<T extends Reconciled<S>, S extends object> {
  kind: CustomKind;
  /** The informer cache of the kind. */
  cache: { get: (key: string) => T | undefined };
  reconcileKind: (obj: T) => Promise<KindOutcome<S>>;
  /**
   * A finalizer, for a kind whose deletion must undo something outside its children (owner
   * references take care of those): added to every object, and removed once `finalizeKind` has
   * run on an object being deleted.
   */
  finalizer?: { name: string; finalizeKind: (obj: T) => Promise<void> };
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KindReconciler<T extends Reconciled<S>, S extends object> {
  private readonly ctx: KindContext;
  private readonly spec: KindSpec<T, S>;

  constructor(ctx: KindContext, spec: KindSpec<T, S>) {
    this.ctx = ctx;
    this.spec = spec;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.spec.cache.get(key);
    if (cached === undefined) return undefined;
    if (cached.metadata.deletionTimestamp != null) {
      await this.finalize(cached);
      return undefined;
    }
    const obj = this.ctx.status.fresh(this.spec.kind, await this.withFinalizer(cached));
    let outcome: KindOutcome<S>;
    try {
      outcome = await this.spec.reconcileKind(obj);
    } catch (error) {
      this.reportError(obj, error);
      throw error;
    }
    const requeue = await this.writeStatus(obj, outcome);
    if (outcome.error !== undefined) {
      this.reportError(obj, outcome.error);
      throw outcome.error;
    }
    return requeue === undefined ? undefined : { requeueAfterMs: requeue };
  }

  /** Writes the outcome's status and sends its events; returns when to reconcile again, if ever. */
  private async writeStatus(obj: T, outcome: KindOutcome<S>): Promise<number | undefined> {
    const observed = (obj.status as { observedGeneration?: number } | undefined)?.observedGeneration;
    if (
      outcome.status === undefined ||
      (outcome.childrenCreated === true && observed !== obj.metadata.generation)
    )
      return outcome.requeueAfterMs;
    let result;
    try {
      result = await this.ctx.status.write(this.spec.kind, obj, outcome.status, {
        progressOnly: outcome.progressOnly ?? false,
      });
    } catch (error) {
      if (!isConflict(error))
        this.ctx.events.event(
          obj,
          'Warning',
          'UpdateFailed',
          `Failed to update status for ${JSON.stringify(obj.metadata.name ?? '')}: ${apiMessage(error)}`,
        );
      throw error;
    }
    if (result.written)
      for (const e of outcome.events ?? []) this.ctx.events.event(obj, e.type, e.reason, e.message);
    const { requeueAfterMs } = outcome;
    if (result.retryAfterMs === undefined) return requeueAfterMs;
    return Math.min(result.retryAfterMs, requeueAfterMs ?? Infinity);
  }

  /** An error the reconcile ends with, as a Warning event; not conflicts (a retry settles them),
   * a namespace being deleted, or a failed create (its CreationFailed event said it). */
  private reportError(obj: T, error: unknown): void {
    if (isConflict(error) || isNamespaceTerminating(error) || error instanceof ChildCreationFailed) return;
    this.ctx.events.event(obj, 'Warning', 'InternalError', apiMessage(error));
  }

  /** `obj` with the kind's finalizer, added if missing. */
  private async withFinalizer(obj: T): Promise<T> {
    const finalizer = this.spec.finalizer?.name;
    const finalizers = obj.metadata.finalizers ?? [];
    if (finalizer === undefined || finalizers.includes(finalizer)) return obj;
    return await this.patchFinalizers(obj, [...finalizers, finalizer]);
  }

  /** Runs FinalizeKind on an object being deleted that still has the kind's finalizer, then
   * removes the finalizer so the deletion can complete. */
  private async finalize(obj: T): Promise<void> {
    const finalizer = this.spec.finalizer;
    const finalizers = obj.metadata.finalizers ?? [];
    if (finalizer === undefined || !finalizers.includes(finalizer.name)) return;
    try {
      await finalizer.finalizeKind(obj);
    } catch (error) {
      this.reportError(obj, error);
      throw error;
    }
    try {
      await this.patchFinalizers(
        obj,
        finalizers.filter((f) => f !== finalizer.name),
      );
    } catch (error) {
      // Gone already: nothing left to finalize.
      if (!isNotFound(error)) throw error;
    }
  }

  /** A merge patch of the finalizers, on the version read (a conflict retries with a newer one). */
  private async patchFinalizers(obj: T, finalizers: string[]): Promise<T> {
    const { namespace = '', name = '', resourceVersion } = obj.metadata;
    const body = { metadata: { finalizers, resourceVersion } };
    return (await this.ctx.custom.patch(this.spec.kind, namespace, name, body, MERGE_PATCH)) as T;
  }
}
