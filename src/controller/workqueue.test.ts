import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { WorkQueue, type ReconcileOutcome } from './workqueue.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('holds a key at most once however often it is added', async () => {
    const depths: number[] = [];
    const q = new WorkQueue({ onDepth: (d) => depths.push(d) });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(depths).toEqual([1, 2, 1, 0]);
  });

  it('processes a key added during its processing again afterwards, never concurrently', async () => {
    const q = new WorkQueue();
    const gate = deferred();
    const calls: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const running = q.run(3, async (key) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      calls.push(key);
      if (calls.length === 1) await gate.promise;
      inFlight--;
    });
    q.add('a');
    await jest.advanceTimersByTimeAsync(0);
    q.add('a');
    q.add('a');
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['a']);
    gate.resolve();
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['a', 'a']);
    expect(maxInFlight).toBe(1);
    q.shutDown();
    await running;
  });

  it('retries with exponential back-off, capped, and forgets on success', () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
    expect([1, 2, 3, 4, 5].map(() => q.addRateLimited('k'))).toEqual([10, 20, 40, 50, 50]);
    expect(q.retries('k')).toBe(5);
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(10);
  });

  it('makes a rate-limited key available only after its delay', async () => {
    const q = new WorkQueue({ baseDelayMs: 100 });
    q.addRateLimited('k');
    expect(q.length).toBe(0);
    await jest.advanceTimersByTimeAsync(99);
    expect(q.length).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(q.length).toBe(1);
  });

  it('keeps the earliest of several delayed adds of a key: a long timeout never hides a short requeue', async () => {
    const q = new WorkQueue();
    q.addAfter('k', 600_000);
    q.addAfter('k', 30_000);
    q.addAfter('k', 45_000);
    await jest.advanceTimersByTimeAsync(29_999);
    expect(q.length).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('k');
    q.done('k');
    // Nothing else of the key stays pending: the 600 s and 45 s adds were folded into the first.
    await jest.advanceTimersByTimeAsync(600_000);
    expect(q.length).toBe(0);
  });

  it('retries a failing reconcile until it succeeds, reporting each outcome', async () => {
    const q = new WorkQueue({ baseDelayMs: 100 });
    const outcomes: ReconcileOutcome[] = [];
    let attempts = 0;
    const running = q.run(
      1,
      async (key) => {
        attempts++;
        if (attempts < 3) throw new Error(`${key} not yet`);
        await Promise.resolve();
      },
      (o) => outcomes.push(o),
    );
    q.add('svc');
    await jest.advanceTimersByTimeAsync(0);
    expect(attempts).toBe(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(attempts).toBe(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(attempts).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(attempts).toBe(3);
    expect(outcomes.map((o) => (o.error === undefined ? 'ok' : (o.error as Error).message))).toEqual([
      'svc not yet',
      'svc not yet',
      'ok',
    ]);
    expect(q.retries('svc')).toBe(0);
    q.shutDown();
    await running;
  });

  it('runs a key again when its reconcile asks to be requeued', async () => {
    const q = new WorkQueue();
    let runs = 0;
    const running = q.run(1, () => {
      runs++;
      return Promise.resolve(runs === 1 ? { requeueAfterMs: 1000 } : undefined);
    });
    q.add('rollout');
    await jest.advanceTimersByTimeAsync(999);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    q.shutDown();
    await running;
  });

  it('lets keys in hand finish on shutdown, then stops every worker', async () => {
    const q = new WorkQueue();
    const gate = deferred();
    const finished: string[] = [];
    const running = q.run(2, async (key) => {
      await gate.promise;
      finished.push(key);
    });
    q.add('a');
    await jest.advanceTimersByTimeAsync(0);
    q.shutDown();
    q.add('b');
    gate.resolve();
    await running;
    expect(finished).toEqual(['a']);
    expect(await q.get()).toBeUndefined();
  });
});
