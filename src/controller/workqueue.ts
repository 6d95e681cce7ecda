// A per-key work queue for reconcilers, with client-go's guarantees: a key waits in the queue at
// most once however often it is added; one worker at a time holds a key, and a key added while it
// is being processed is processed again afterwards; failures are retried with per-key exponential
// back-off. Workers are plain async loops; shutdown lets the keys in hand finish.

export interface WorkQueueOptions {
  /** First retry delay after a failure, doubled per consecutive failure of the key. */
  baseDelayMs?: number;
  /** Longest retry delay. */
  maxDelayMs?: number;
  /** Called whenever the number of waiting keys changes (for a queue-depth gauge). */
  onDepth?: (depth: number) => void;
}

/** What a reconcile may ask for besides success: to be run again after a delay. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | undefined>;

export interface ReconcileOutcome {
  key: string;
  error?: unknown;
  durationMs: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onDepth: ((depth: number) => void) | undefined;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 300_000;
    this.onDepth = options.onDepth;
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.onDepth?.(this.queue.length);
  }

  /**
   * Adds the key after `delayMs`. A key waits for one delayed add at a time, the one due first (as
   * client-go's delaying queue does): a later deadline never postpones an earlier one, so a long
   * timeout pending for a key cannot hide a short requeue asked for since.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { timer, at });
  }

  /** Retries a failed key with exponential back-off: base, 2×base, 4×base, ... up to max. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue is shut down and empty. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.onDepth?.(this.queue.length);
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Processing of `key` finished; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /**
   * Runs `workers` loops that reconcile keys until shutdown; resolves when all have stopped.
   * A thrown error retries the key with back-off; a requeueAfterMs result schedules it again.
   */
  async run(
    workers: number,
    reconcile: Reconcile,
    observe?: (outcome: ReconcileOutcome) => void,
  ): Promise<void> {
    const loop = async (): Promise<void> => {
      for (let key = await this.get(); key !== undefined; key = await this.get()) {
        const started = performance.now();
        try {
          const result = await reconcile(key);
          this.forget(key);
          if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
          observe?.({ key, durationMs: performance.now() - started });
        } catch (error) {
          this.addRateLimited(key);
          observe?.({ key, error, durationMs: performance.now() - started });
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, loop));
  }
}
