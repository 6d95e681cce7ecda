// A list+watch cache of one resource, sturdier than @kubernetes/client-node's informer, which
// stops for good on most errors. It relists on 410 Gone, reconnects with back-off after any
// error (apiserver restarts included), detects a watch that silently stopped delivering (no
// event or bookmark for `stallMs`) and relists, and resyncs every cached object periodically (spread
// over the period) so reconcilers converge even if an event was lost.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { errorCode } from './kube.ts';

/** Seconds after which the API server ends a watch (the informer then resumes it). */
const WATCH_TIMEOUT_S = 240;

/** A resync delivers its objects in slices, one slice about this often. */
const RESYNC_TICK_MS = 1000;

/**
 * The keys tick `tick` (of `ticks` per resync period) delivers: an even share of the keys cached
 * when the period began, so that each is resynced once per period and no tick gets them all.
 */
export function resyncShare<K>(keys: readonly K[], tick: number, ticks: number): K[] {
  const per = Math.ceil(keys.length / ticks);
  return keys.slice(tick * per, (tick + 1) * per);
}

export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T, old: T) => void;
  delete?: (obj: T) => void;
}

export interface InformerOptions<T> {
  /** API path of the collection, e.g. `/api/v1/namespaces/ns/configmaps` or `/apis/serving.knative.dev/v1/services`. */
  path: string;
  list: () => Promise<{ items: T[]; resourceVersion: string }>;
  labelSelector?: string;
  resyncMs?: number;
  stallMs?: number;
  maxBackoffMs?: number;
  /** Called on every relist and reconnect, with the reason, for metrics and logs. */
  onRestart?: (reason: string) => void;
}

/** What the informer needs of an object: its identity and version. Typed client objects and raw
 * custom resources both fit. */
export interface Obj {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops what no reconciler reads and that can be most of an object's size: managedFields (as
 * client-go's TrimManagedFields does) and kubectl's last-applied copy of the object. An update that
 * omits managedFields keeps the stored ones; ebb only ever updates objects it created, which carry
 * no last-applied annotation.
 */
function trim(obj: Obj): void {
  const meta = obj.metadata as { managedFields?: unknown; annotations?: Record<string, string> } | undefined;
  if (meta === undefined) return;
  if (meta.managedFields !== undefined) delete meta.managedFields;
  if (meta.annotations !== undefined && LAST_APPLIED in meta.annotations) {
    meta.annotations = Object.fromEntries(
      Object.entries(meta.annotations).filter(([k]) => k !== LAST_APPLIED),
    );
  }
}

export function objectKey(obj: Obj): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns === undefined || ns === '' ? name : `${ns}/${name}`;
}

export class Informer<T extends Obj> {
  private readonly kc: KubeConfig;
  private readonly options: InformerOptions<T>;
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = false;
  private synced = false;
  private lastEvent = 0;
  private timers: NodeJS.Timeout[] = [];
  private syncWaiters: (() => void)[] = [];

  constructor(kc: KubeConfig, options: InformerOptions<T>) {
    this.kc = kc;
    this.options = options;
  }

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    void this.loop();
    const resync = this.options.resyncMs;
    if (resync !== undefined && resync > 0) {
      // Spread over the period rather than all at once: with a few thousand objects cached, a
      // single burst put every one of them on the queues together and stalled the reconcilers
      // (and whatever else wanted the CPU) for seconds.
      const ticks = Math.max(1, Math.round(resync / RESYNC_TICK_MS));
      let tick = 0;
      let keys: string[] = [];
      this.timers.push(
        setInterval(() => {
          if (tick === 0) keys = [...this.cache.keys()];
          for (const key of resyncShare(keys, tick, ticks)) {
            const obj = this.cache.get(key);
            if (obj !== undefined) for (const h of this.handlers) h.update?.(obj, obj);
          }
          tick = (tick + 1) % ticks;
        }, resync / ticks),
      );
    }
    const stallMs = this.options.stallMs ?? (WATCH_TIMEOUT_S + 60) * 1000;
    this.timers.push(
      setInterval(
        () => {
          if (this.synced && Date.now() - this.lastEvent > stallMs) {
            this.options.onRestart?.('stalled');
            this.resourceVersion = '';
            this.abort?.abort();
          }
        },
        Math.max(1000, stallMs / 4),
      ),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.abort?.abort();
  }

  /** Replaces the cache with a fresh list, emitting what changed while the watch was away. */
  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.options.list();
    const seen = new Set<string>();
    for (const obj of items) {
      trim(obj);
      const key = objectKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (old === undefined) for (const h of this.handlers) h.add?.(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        for (const h of this.handlers) h.update?.(obj, old);
    }
    for (const [key, old] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      for (const h of this.handlers) h.delete?.(old);
    }
    this.resourceVersion = resourceVersion;
    this.lastEvent = Date.now();
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private handle(type: string, obj: T): void {
    this.lastEvent = Date.now();
    const rv = obj.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (rv !== undefined) this.resourceVersion = rv;
      return;
    }
    if (type === 'ERROR') {
      const code = (obj as unknown as { code?: number }).code;
      if (code === 410) this.resourceVersion = '';
      this.abort?.abort();
      return;
    }
    trim(obj);
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (rv !== undefined) this.resourceVersion = rv;
    if (type === 'DELETED') {
      this.cache.delete(key);
      for (const h of this.handlers) h.delete?.(old ?? obj);
      return;
    }
    this.cache.set(key, obj);
    if (old === undefined) for (const h of this.handlers) h.add?.(obj);
    else for (const h of this.handlers) h.update?.(obj, old);
  }

  private async loop(): Promise<void> {
    let backoff = 250;
    while (!this.stopped) {
      try {
        if (this.resourceVersion === '') await this.relist();
        await new Promise<void>((resolve, reject) => {
          const query: Record<string, string | number | boolean> = {
            allowWatchBookmarks: true,
            resourceVersion: this.resourceVersion,
            // The server ends each watch cleanly after this; the next one resumes from the last
            // version seen. Quiet resources then reconnect every few minutes, not every 30 s.
            timeoutSeconds: WATCH_TIMEOUT_S,
          };
          if (this.options.labelSelector !== undefined) query.labelSelector = this.options.labelSelector;
          const watch = new Watch(this.kc);
          // client-node aborts a watch after 30 s without bytes; the server's timeout comes first.
          (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = (WATCH_TIMEOUT_S + 30) * 1000;
          watch
            .watch(
              this.options.path,
              query,
              (type: string, obj: T) => {
                this.handle(type, obj);
              },
              (error: unknown) => {
                if (
                  error === null ||
                  error === undefined ||
                  (error as { name?: string }).name === 'AbortError'
                )
                  resolve();
                else reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
              },
            )
            .then((abort) => {
              this.abort = abort;
              this.lastEvent = Date.now();
            }, reject);
        });
        backoff = 250;
      } catch (error) {
        if (errorCode(error) === 410) this.resourceVersion = '';
        this.options.onRestart?.(`watch failed: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 30_000);
        // The watch resumes from the last version seen; if the API server no longer has it, it
        // answers 410 Gone and the next round relists.
      }
    }
  }
}
