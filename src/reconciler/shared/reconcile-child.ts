// Creating, adopting and updating one child of a parent, the same way for every kind, as Knative's
// reconcilers do for theirs: create it when missing (and report that with an event), read what is
// there on AlreadyExists, leave alone a child someone else controls (the parent reports that in its
// status), and bring an owned child back in line when it drifted. What "in line" means, and how the
// update is built, is the caller's; so is what a refused create means for the parent's status.
import type { Logger } from 'pino';
import type { EventRecorder } from '../../controller/events.ts';
import { apiMessage, errorCode, isConflict, isNamespaceTerminating } from '../../controller/kube.ts';
import { splitKey } from '../context.ts';
import { isControlledBy, type OwnerObject } from './meta.ts';
import type { RecentlyCreated } from './recently-created.ts';

/** What reconcileChild needs of the reconciler's context. */
export interface ChildContext {
  events: Pick<EventRecorder, 'event'>;
  log: Logger;
  now: () => Date;
}

interface Controllable {
  metadata?: { ownerReferences?: readonly { uid: string; controller?: boolean }[] };
}

export interface ChildSpec<T extends Controllable> {
  owner: OwnerObject;
  /** How events and logs name the child: its kind, or Knative's words for it ("placeholder service"). */
  noun: string;
  /** `namespace/name` of the child. */
  key: string;
  /** The child as last seen: the informer cache's copy, else one this controller created recently. */
  existing: T | undefined;
  /** Remembers a child this call creates (or finds, ours, on AlreadyExists) until the cache shows it. */
  recent: RecentlyCreated<T>;
  desired: T;
  create: (desired: T) => Promise<T>;
  read: () => Promise<T>;
  /** True when `existing` differs from `desired` in what the parent owns. */
  needsUpdate: (existing: T, desired: T) => boolean;
  /** The object to write back: `existing` with what the parent owns taken from `desired`. */
  merge: (existing: T, desired: T) => T;
  update: (merged: T) => Promise<T>;
}

export type ChildOutcome = 'created' | 'updated' | 'unchanged' | 'not-owned';

export interface ChildResult<T> {
  outcome: ChildOutcome;
  /** The child as it now is; for 'not-owned', the other controller's object. */
  child: T;
}

/** What to do about a child that exists. */
export type ExistingChildAction = 'not-owned' | 'update' | 'keep';

/** What to do about a child, given what is there (undefined: nothing). */
export type ChildAction = 'create' | ExistingChildAction;

export function childAction<T extends Controllable>(
  existing: T | undefined,
  owner: OwnerObject,
  needsUpdate: (existing: T) => boolean,
): ChildAction {
  return existing === undefined ? 'create' : existingChildAction(existing, owner, needsUpdate);
}

function existingChildAction<T extends Controllable>(
  existing: T,
  owner: OwnerObject,
  needsUpdate: (existing: T) => boolean,
): ExistingChildAction {
  if (!isControlledBy(existing, owner)) return 'not-owned';
  return needsUpdate(existing) ? 'update' : 'keep';
}

/** The Normal event's message for a created child, as Knative words it. */
export function createdMessage(noun: string, name: string): string {
  return `Created ${noun} ${JSON.stringify(name)}`;
}

/** The Warning event's message for a create the API server refused. */
export function creationFailedMessage(noun: string, name: string, message: string): string {
  return `Failed to create ${noun} ${JSON.stringify(name)}: ${message}`;
}

/**
 * A create of a child that failed (other than AlreadyExists, or the namespace being deleted). The
 * CreationFailed event has been sent; the parent decides whether this is its status or a retry.
 */
export class ChildCreationFailed extends Error {
  readonly noun: string;
  readonly childName: string;
  /** The API server's own message. */
  readonly apiMessage: string;
  /** The API server's status code, if it answered. */
  readonly code: number | undefined;

  constructor(noun: string, childName: string, cause: unknown) {
    const message = apiMessage(cause);
    super(creationFailedMessage(noun, childName, message), { cause });
    this.name = 'ChildCreationFailed';
    this.noun = noun;
    this.childName = childName;
    this.apiMessage = message;
    this.code = errorCode(cause);
  }

  /** The API server refused the object itself (4xx: invalid, forbidden by a policy, over a quota):
   * sending the same object again will not help until something else changes. */
  get refused(): boolean {
    return this.code !== undefined && this.code >= 400 && this.code < 500;
  }
}

/**
 * Creates, adopts or updates one child. Creating sends `Created` (Normal) or `CreationFailed`
 * (Warning) to the owner and throws ChildCreationFailed on failure; the namespace being deleted is
 * thrown as it came. AlreadyExists (a create lost in a crash, a cache behind) reads the child and
 * treats it as found.
 */
export async function reconcileChild<T extends Controllable>(
  ctx: ChildContext,
  spec: ChildSpec<T>,
): Promise<ChildResult<T>> {
  const { owner, noun, desired } = spec;
  const { name } = splitKey(spec.key);
  let existing = spec.existing;
  if (existing === undefined) {
    const now = ctx.now().getTime();
    try {
      const created = await spec.create(desired);
      spec.recent.remember(spec.key, created, now);
      log(ctx, owner).info({ child: noun, childName: name }, `created ${noun}`);
      ctx.events.event(owner, 'Normal', 'Created', createdMessage(noun, name));
      return { outcome: 'created', child: created };
    } catch (error) {
      if (isNamespaceTerminating(error)) throw error;
      if (!isConflict(error)) {
        ctx.events.event(
          owner,
          'Warning',
          'CreationFailed',
          creationFailedMessage(noun, name, apiMessage(error)),
        );
        throw new ChildCreationFailed(noun, name, error);
      }
    }
    existing = await spec.read();
    // Not one of ours: the cache may never show it (it lacks the label the cache selects on), and
    // a remembered copy would hide its deletion until the memory expires. Read it again next time.
    if (isControlledBy(existing, owner)) spec.recent.remember(spec.key, existing, now);
  }
  switch (existingChildAction(existing, owner, (e) => spec.needsUpdate(e, desired))) {
    case 'not-owned':
      return { outcome: 'not-owned', child: existing };
    case 'keep':
      return { outcome: 'unchanged', child: existing };
    case 'update': {
      const updated = await spec.update(spec.merge(existing, desired));
      log(ctx, owner).info({ child: noun, childName: name }, `updated ${noun}`);
      return { outcome: 'updated', child: updated };
    }
  }
}

function log(ctx: ChildContext, owner: OwnerObject): Logger {
  return ctx.log.child({ kind: owner.kind, namespace: owner.metadata.namespace, name: owner.metadata.name });
}
