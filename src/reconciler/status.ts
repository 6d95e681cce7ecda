// "Write status only when it changed", with observedGeneration, for every reconciler. A status
// write reaches the informer cache a moment later; until it does, the cache shows the status from
// before it, and comparing against that would write the same status again on the next reconcile
// (and restamp its transition times). So the writer remembers what it wrote, and on what version of
// the object, and serves that until the cache moves past it.
import { deepEqual } from '../apis/object-diff.ts';
import type { ObjectMeta } from '../apis/meta/v1.ts';
import { isNotFound, type CustomKind, type CustomResources } from '../controller/kube.ts';

/** Drops undefined fields, as a JSON round trip through the API server would. */
export function asStored(value: unknown): unknown {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

interface WithStatus<S> {
  metadata: ObjectMeta;
  status?: S;
}

const MAX_REMEMBERED = 50_000;

export class StatusWriter {
  private readonly custom: CustomResources;
  private readonly written = new Map<string, { basedOn: string | undefined; status: unknown }>();

  constructor(custom: CustomResources) {
    this.custom = custom;
  }

  /** `obj`, with the status last written for it if the cache has not caught up with that write. */
  fresh<T extends WithStatus<object>>(kind: CustomKind, obj: T): T {
    const key = keyOf(kind, obj);
    const entry = this.written.get(key);
    if (entry === undefined) return obj;
    if (entry.basedOn !== obj.metadata.resourceVersion) {
      this.written.delete(key);
      return obj;
    }
    return { ...obj, status: entry.status as T['status'] };
  }

  /** Writes `status` (with observedGeneration) unless the object already has it; true if written. */
  async write<S extends object>(kind: CustomKind, obj: WithStatus<S>, status: S): Promise<boolean> {
    const current = this.fresh(kind, obj);
    // Both sides are JSON-shaped (the cache holds what the API server sent), so one round trip
    // of the computed status is all the comparison needs.
    const next = asStored({ ...status, observedGeneration: obj.metadata.generation });
    if (deepEqual(current.status ?? {}, next)) return false;
    try {
      await this.custom.setStatus(kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '', next);
    } catch (error) {
      // Deleted since the cache saw it: nothing left to report on.
      if (isNotFound(error)) return false;
      throw error;
    }
    const key = keyOf(kind, obj);
    this.written.delete(key);
    this.written.set(key, { basedOn: obj.metadata.resourceVersion, status: next });
    if (this.written.size > MAX_REMEMBERED) {
      const oldest = this.written.keys().next().value;
      if (oldest !== undefined) this.written.delete(oldest);
    }
    return true;
  }
}

function keyOf(kind: CustomKind, obj: WithStatus<object>): string {
  return `${kind.plural}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}/${obj.metadata.uid ?? ''}`;
}
