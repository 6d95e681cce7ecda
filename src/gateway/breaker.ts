// A revision's admission gate, after Knative's activator breaker (pkg/queue/breaker.go and the
// throttler's infinite breaker): at most `capacity` requests in flight, the rest wait in a bounded
// FIFO queue until a slot frees up or the capacity grows. Capacity Infinity is the
// containerConcurrency 0 mode: nothing waits unless the capacity is 0 (no pods yet).

/** Knative's breakerQueueDepth. */
export const DEFAULT_QUEUE_DEPTH = 10_000;

/** The queue already holds queueDepth waiters; the gateway answers 503. */
export class QueueFullError extends Error {
  readonly queueDepth: number;

  constructor(queueDepth: number) {
    super(`pending request queue full (depth ${queueDepth})`);
    this.name = 'QueueFullError';
    this.queueDepth = queueDepth;
  }
}

export interface BreakerOptions {
  /** Requests admitted at once; Infinity for no limit. Default 0: everything waits. */
  capacity?: number;
  /** Requests allowed to wait; more are refused with QueueFullError. Default 10,000. */
  queueDepth?: number;
}

/** A queued acquire; its own abort listener, so waiting allocates no closure beyond the promise. */
class Waiter {
  prev: Waiter | undefined;
  next: Waiter | undefined;
  readonly resolve: (value: undefined) => void;
  readonly reject: (reason: Error) => void;
  readonly signal: AbortSignal | undefined;
  readonly breaker: Breaker;

  constructor(
    breaker: Breaker,
    resolve: (value: undefined) => void,
    reject: (reason: Error) => void,
    signal: AbortSignal | undefined,
  ) {
    this.breaker = breaker;
    this.resolve = resolve;
    this.reject = reject;
    this.signal = signal;
  }

  handleEvent(): void {
    this.breaker.abandon(this);
  }
}

/**
 * The signal's reason, passed on as is, as fetch does: an AbortError DOMException unless the
 * caller aborted with a reason of its own.
 */
function abortReason(signal: AbortSignal): Error {
  return signal.reason as Error;
}

function checkCapacity(capacity: number): number {
  if (!(capacity >= 0) || (!Number.isInteger(capacity) && capacity !== Infinity)) {
    throw new RangeError(`capacity: expected a whole number >= 0 or Infinity, got ${capacity}`);
  }
  return capacity;
}

export class Breaker {
  #queueDepth: number;
  #capacity: number;
  #inFlight = 0;
  #waiting = 0;
  #head: Waiter | undefined;
  #tail: Waiter | undefined;

  constructor(options: BreakerOptions = {}) {
    const depth = options.queueDepth ?? DEFAULT_QUEUE_DEPTH;
    if (!Number.isInteger(depth) || depth < 0) {
      throw new RangeError(`queueDepth: expected a whole number >= 0, got ${depth}`);
    }
    this.#queueDepth = depth;
    this.#capacity = checkCapacity(options.capacity ?? 0);
  }

  /** Requests allowed to wait; more are refused with QueueFullError. */
  get queueDepth(): number {
    return this.#queueDepth;
  }

  /** A smaller depth refuses new waiters only; those already queued keep their place. */
  setQueueDepth(depth: number): void {
    if (!Number.isInteger(depth) || depth < 0) {
      throw new RangeError(`queueDepth: expected a whole number >= 0, got ${depth}`);
    }
    this.#queueDepth = depth;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Admitted and not yet released. May exceed capacity right after the capacity shrinks. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Queued acquires. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Takes a slot now if one is free and nobody is queued ahead; the hot path, no promise. */
  tryAcquire(): boolean {
    if (this.#head !== undefined || this.#inFlight >= this.#capacity) return false;
    this.#inFlight++;
    return true;
  }

  /**
   * Resolves once a slot is held; the caller must release() it exactly once. Rejects at once with
   * QueueFullError when queueDepth requests already wait, and with the signal's reason on abort.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    if (this.tryAcquire()) return Promise.resolve();
    if (this.#waiting >= this.queueDepth) return Promise.reject(new QueueFullError(this.queueDepth));
    const { promise, resolve, reject } = Promise.withResolvers<undefined>();
    const waiter = new Waiter(this, resolve, reject, signal);
    if (this.#tail === undefined) this.#head = waiter;
    else {
      this.#tail.next = waiter;
      waiter.prev = this.#tail;
    }
    this.#tail = waiter;
    this.#waiting++;
    signal?.addEventListener('abort', waiter);
    return promise;
  }

  release(): void {
    if (this.#inFlight === 0) throw new Error('breaker: release() without a held slot');
    this.#inFlight--;
    this.#admit();
  }

  /** Changes how many may be in flight; a larger capacity admits waiters in FIFO order. */
  setCapacity(capacity: number): void {
    this.#capacity = checkCapacity(capacity);
    this.#admit();
  }

  /** Rejects every waiter, e.g. when the revision goes away; holders keep their slots. */
  rejectAll(reason: Error): void {
    while (this.#head !== undefined) {
      const waiter = this.#head;
      this.#unlink(waiter);
      waiter.reject(reason);
    }
  }

  /** Called by a waiter whose signal aborted. */
  abandon(waiter: Waiter): void {
    // A waiter already admitted has been unlinked and its listener removed; nothing to do.
    if (waiter.prev === undefined && this.#head !== waiter) return;
    this.#unlink(waiter);
    if (waiter.signal !== undefined) waiter.reject(abortReason(waiter.signal));
  }

  #admit(): void {
    while (this.#head !== undefined && this.#inFlight < this.#capacity) {
      const waiter = this.#head;
      this.#unlink(waiter);
      this.#inFlight++;
      waiter.resolve(undefined);
    }
  }

  #unlink(waiter: Waiter): void {
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#waiting--;
    waiter.signal?.removeEventListener('abort', waiter);
  }
}
