// Children this controller has just created, until its informer caches show them. A reconcile
// that runs again before the child's ADDED event arrives (the event of a sibling created first
// brought it back) would otherwise create the child again, meet AlreadyExists and read it back:
// two wasted requests per child. client-go's controllers keep "expectations" for the same reason.

interface Entry<T> {
  obj: T;
  at: number;
}

/** A remembered child stops counting after this long even if the cache never showed it (deleted
 * before the watch saw it); the next reconcile then asks the API server again. */
const TTL_MS = 60_000;
const MAX_REMEMBERED = 20_000;

export class RecentlyCreated<T> {
  private readonly items = new Map<string, Entry<T>>();
  private readonly ttlMs: number;

  constructor(ttlMs = TTL_MS) {
    this.ttlMs = ttlMs;
  }

  /** Remembers `obj`, just returned by a create, under its cache key. */
  remember(key: string, obj: T, now: number): void {
    this.items.delete(key);
    this.items.set(key, { obj, at: now });
    if (this.items.size > MAX_REMEMBERED) {
      const oldest = this.items.keys().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
  }

  /** The cached object when the cache has it (the cache wins from then on), else the object this
   * controller created, if it did so within the TTL. */
  resolve(key: string, cached: T | undefined, now: number): T | undefined {
    const entry = this.items.get(key);
    if (entry === undefined) return cached;
    if (cached !== undefined || now - entry.at > this.ttlMs) {
      this.items.delete(key);
      return cached;
    }
    return entry.obj;
  }

  get size(): number {
    return this.items.size;
  }
}
