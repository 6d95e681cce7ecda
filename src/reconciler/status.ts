// "Write status only when it changed", with observedGeneration, for every reconciler. A status
// write reaches the informer cache a moment later; until it does, the cache shows the status from
// before it, and comparing against that would write the same status again on the next reconcile
// (and restamp its transition times). So the writer remembers what it wrote, and on what version of
// the object, and serves that until the cache moves past it.
//
// A status that only reports progress (Ready Unknown, nothing another component acts on) may be
// held back for a moment, so that an object that becomes Ready quickly gets one status write
// instead of two or three. Each write costs the API server a patch, managed-fields bookkeeping and
// a watch event to every watcher; under a burst of new Services these progress writes were a fifth
// of its work. Ready True or False, and anything a reader acts on, are written at once.
import { deepEqual } from '../apis/object-diff.ts';
import type { Condition, ObjectMeta } from '../apis/meta/v1.ts';
import { READY } from '../apis/serving/v1/conditions.ts';
import { isNotFound, type CustomKind, type CustomResources } from '../controller/kube.ts';

/** Drops undefined fields, as a JSON round trip through the API server would. */
export function asStored(value: unknown): unknown {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** The Ready condition's status; Unknown when there is none. */
export function readyStatus(conditions: readonly Condition[] | undefined): 'True' | 'False' | 'Unknown' {
  return conditions?.find((c) => c.type === READY)?.status ?? 'Unknown';
}

export interface WithStatus<S = object> {
  metadata: ObjectMeta;
  status?: S;
}

const MAX_REMEMBERED = 50_000;

/** How long a progress-only status may be held back, by default. */
export const DEFAULT_SETTLE_MS = 1_000;

export interface ProgressHoldInput {
  now: number;
  settleMs: number;
  /** When this writer first saw the object at its current generation. */
  since: number;
  /** When this writer last wrote the object's status, if it did. */
  lastWriteAt: number | undefined;
  /** The stored status already reports the current generation. */
  observed: boolean;
}

/**
 * Milliseconds to hold back a progress-only status: a new generation's first status waits until
 * `settleMs` after the generation was first seen (it may be Ready by then, and one write says
 * everything); later progress waits until `settleMs` after the previous write. 0 means write now.
 */
export function progressHoldMs(input: ProgressHoldInput): number {
  const from = input.observed ? input.lastWriteAt : input.since;
  if (from === undefined) return 0;
  return Math.max(0, from + input.settleMs - input.now);
}

export interface WriteOptions {
  /** The status only reports progress: it may be held back (see progressHoldMs). */
  progressOnly?: boolean;
}

export interface WriteResult {
  /** The status was sent to the API server. */
  written: boolean;
  /** A progress-only status was held back: reconcile again after this long. */
  retryAfterMs?: number;
}

interface Progress {
  generation: number | undefined;
  since: number;
  lastWriteAt?: number;
}

export class StatusWriter {
  private readonly custom: CustomResources;
  private readonly settleMs: number;
  private readonly clock: () => number;
  private readonly written = new Map<string, { basedOn: string | undefined; status: unknown }>();
  /** The status last sent for each key, recorded before the request: its watch event can come
   * back before the API server's answer does. */
  private readonly sent = new Map<string, unknown>();
  private readonly progress = new Map<string, Progress>();

  constructor(custom: CustomResources, options: { settleMs?: number; clock?: () => number } = {}) {
    this.custom = custom;
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.clock = options.clock ?? Date.now;
  }

  /** `obj`, with the status last written for it if the cache has not caught up with that write. */
  fresh<T extends WithStatus>(kind: CustomKind, obj: T): T {
    const key = keyOf(kind, obj);
    const entry = this.written.get(key);
    if (entry === undefined) return obj;
    if (entry.basedOn !== obj.metadata.resourceVersion) {
      this.written.delete(key);
      return obj;
    }
    return { ...obj, status: entry.status as T['status'] };
  }

  /** Writes `status` (with observedGeneration) unless the object already has it, or holds back a
   * progress-only status (see progressHoldMs). */
  async write<S extends object>(
    kind: CustomKind,
    obj: WithStatus<S>,
    status: S,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const key = keyOf(kind, obj);
    const now = this.clock();
    const progress = this.track(key, obj.metadata.generation, now);
    const current = this.fresh(kind, obj);
    // Both sides are JSON-shaped (the cache holds what the API server sent), so one round trip
    // of the computed status is all the comparison needs.
    const next = asStored({ ...status, observedGeneration: obj.metadata.generation });
    if (deepEqual(current.status ?? {}, next)) return { written: false };
    if (options.progressOnly === true) {
      const holdMs = progressHoldMs({
        now,
        settleMs: this.settleMs,
        since: progress.since,
        lastWriteAt: progress.lastWriteAt,
        observed:
          (current.status as { observedGeneration?: number } | undefined)?.observedGeneration ===
          obj.metadata.generation,
      });
      if (holdMs > 0) return { written: false, retryAfterMs: holdMs };
    }
    remember(this.sent, key, next);
    try {
      await this.custom.setStatus(kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '', next);
    } catch (error) {
      // Deleted since the cache saw it: nothing left to report on.
      if (isNotFound(error)) return { written: false };
      throw error;
    }
    progress.lastWriteAt = this.clock();
    remember(this.written, key, { basedOn: obj.metadata.resourceVersion, status: next });
    return { written: true };
  }

  /**
   * True when an update the informer delivers is this writer's own last status write coming back:
   * nothing but the status changed, and it is now exactly the status last sent. Reconciling it
   * would find the world as before and the status it computed from it.
   */
  isOwnEcho(kind: CustomKind, old: WithStatus, updated: WithStatus): boolean {
    const key = keyOf(kind, updated);
    return (
      this.sent.has(key) && onlyStatusChanged(old, updated) && deepEqual(updated.status, this.sent.get(key))
    );
  }

  /** When this writer first saw `key` at `generation`, and when it last wrote its status. */
  private track(key: string, generation: number | undefined, now: number): Progress {
    const known = this.progress.get(key);
    if (known !== undefined && known.generation === generation) return known;
    const fresh: Progress = { generation, since: now };
    remember(this.progress, key, fresh);
    return fresh;
  }
}

/** Sets `key` as the newest entry, dropping the oldest beyond MAX_REMEMBERED. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

function keyOf(kind: CustomKind, obj: WithStatus): string {
  return `${kind.plural}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}/${obj.metadata.uid ?? ''}`;
}

/** True when `a` and `b` differ in nothing but status and the server's bookkeeping of a write. */
export function onlyStatusChanged(a: WithStatus, b: WithStatus): boolean {
  const rest = (o: WithStatus): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...o };
    delete copy.status;
    const meta: Record<string, unknown> = { ...o.metadata };
    delete meta.resourceVersion;
    delete meta.managedFields;
    copy.metadata = meta;
    return copy;
  };
  return deepEqual(rest(a), rest(b));
}
