// Tests of the revision breaker: admission up to capacity, FIFO waiting, the queue-depth limit,
// aborts, capacity changes at runtime, and the Infinity (containerConcurrency 0) mode.
import { describe, expect, it } from '@jest/globals';
import { Breaker, DEFAULT_QUEUE_DEPTH, QueueFullError } from './breaker.ts';

/** Lets settled promise callbacks run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts acquires and records the order in which they settle. */
function track(breaker: Breaker, names: string[], signals: Record<string, AbortSignal> = {}) {
  const settled: string[] = [];
  for (const name of names) {
    breaker.acquire(signals[name]).then(
      () => settled.push(name),
      (error: unknown) => settled.push(`${name}:${(error as { name?: string }).name ?? 'unnamed'}`),
    );
  }
  return settled;
}

describe('Breaker', () => {
  it('defaults to Knative’s queue depth and zero capacity', () => {
    const b = new Breaker();
    expect([b.queueDepth, b.capacity, b.tryAcquire()]).toEqual([DEFAULT_QUEUE_DEPTH, 0, false]);
  });

  const steps: [string, number, (b: Breaker) => void, string[], { inFlight: number; waiting: number }][] = [
    ['admits up to capacity, queues the rest', 2, () => undefined, ['a', 'b'], { inFlight: 2, waiting: 2 }],
    [
      'a release admits the oldest waiter',
      2,
      (b) => {
        b.release();
      },
      ['a', 'b', 'c'],
      { inFlight: 2, waiting: 1 },
    ],
    [
      'raising capacity admits waiters in FIFO order',
      2,
      (b) => {
        b.setCapacity(3);
      },
      ['a', 'b', 'c'],
      { inFlight: 3, waiting: 1 },
    ],
    [
      'lowering capacity admits nobody until in-flight drops below it',
      2,
      (b) => {
        b.setCapacity(1);
        b.release();
      },
      ['a', 'b'],
      { inFlight: 1, waiting: 2 },
    ],
    [
      'Infinity admits everyone',
      2,
      (b) => {
        b.setCapacity(Infinity);
      },
      ['a', 'b', 'c', 'd'],
      { inFlight: 4, waiting: 0 },
    ],
  ];
  it.each(steps)('%s', async (_name, capacity, act, settledExpected, counts) => {
    const b = new Breaker({ capacity, queueDepth: 5 });
    const settled = track(b, ['a', 'b', 'c', 'd']);
    await flush();
    act(b);
    await flush();
    expect(settled).toEqual(settledExpected);
    expect({ inFlight: b.inFlight, waiting: b.waiting }).toEqual(counts);
  });

  it('refuses at once with QueueFullError when queueDepth wait already', async () => {
    const b = new Breaker({ capacity: 1, queueDepth: 2 });
    const settled = track(b, ['a', 'b', 'c', 'd']);
    await flush();
    expect(settled).toEqual(['a', 'd:QueueFullError']);
    await expect(b.acquire()).rejects.toThrow(new QueueFullError(2));
    expect(b.waiting).toBe(2);
  });

  it('tryAcquire takes a free slot without a promise and refuses when full', () => {
    const b = new Breaker({ capacity: 2 });
    expect([b.tryAcquire(), b.tryAcquire(), b.tryAcquire()]).toEqual([true, true, false]);
    b.release();
    expect([b.inFlight, b.tryAcquire(), b.inFlight]).toEqual([1, true, 2]);
  });

  it('removes an aborted waiter and rejects it with the signal’s reason', async () => {
    const b = new Breaker({ capacity: 0 });
    const ctl = new AbortController();
    const settled = track(b, ['a', 'b', 'c'], { b: ctl.signal });
    ctl.abort();
    await flush();
    expect(settled).toEqual(['b:AbortError']);
    expect(b.waiting).toBe(2);
    b.setCapacity(5);
    await flush();
    expect(settled).toEqual(['b:AbortError', 'a', 'c']);
    expect(b.inFlight).toBe(2);
  });

  it('rejects an already aborted signal without queueing', async () => {
    const b = new Breaker({ capacity: 1 });
    await expect(b.acquire(AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect([b.inFlight, b.waiting]).toEqual([0, 0]);
  });

  it('ignores an abort after admission: the slot stays held', async () => {
    const b = new Breaker({ capacity: 1 });
    const ctl = new AbortController();
    await b.acquire(ctl.signal);
    ctl.abort();
    expect(b.inFlight).toBe(1);
  });

  it('blocks in Infinity mode only while capacity is 0', async () => {
    const b = new Breaker({ capacity: 0 });
    const settled = track(b, ['a', 'b']);
    await flush();
    expect(settled).toEqual([]);
    b.setCapacity(Infinity);
    await flush();
    expect(settled).toEqual(['a', 'b']);
    b.setCapacity(0);
    expect(b.tryAcquire()).toBe(false);
  });

  it('rejectAll empties the queue but keeps held slots', async () => {
    const b = new Breaker({ capacity: 1 });
    const settled = track(b, ['a', 'b', 'c']);
    await flush();
    b.rejectAll(new QueueFullError(0));
    await flush();
    expect(settled).toEqual(['a', 'b:QueueFullError', 'c:QueueFullError']);
    expect([b.inFlight, b.waiting]).toEqual([1, 0]);
  });

  it.each([
    [
      'release without a slot',
      () => {
        new Breaker().release();
      },
      'breaker: release() without a held slot',
    ],
    [
      'negative capacity',
      () => new Breaker({ capacity: -1 }),
      'capacity: expected a whole number >= 0 or Infinity, got -1',
    ],
    [
      'fractional capacity',
      () => {
        new Breaker().setCapacity(1.5);
      },
      'capacity: expected a whole number >= 0 or Infinity, got 1.5',
    ],
    [
      'NaN capacity',
      () => {
        new Breaker().setCapacity(Number.NaN);
      },
      'capacity: expected a whole number >= 0 or Infinity, got NaN',
    ],
    [
      'negative queue depth',
      () => new Breaker({ queueDepth: -1 }),
      'queueDepth: expected a whole number >= 0, got -1',
    ],
  ])('throws on %s', (_name, act, message) => {
    expect(act).toThrow(message);
  });
});
