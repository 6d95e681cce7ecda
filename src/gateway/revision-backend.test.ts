// Tests of one revision's admission path: requests wait while it has no pod and go the moment
// one is ready, containerConcurrency bounds what one replica admits (its share of the pods when
// there are several gateways), and a revision's spec gives its limits with Knative's defaults.
import { describe, expect, it, jest } from '@jest/globals';
import type { Revision } from '../apis/serving/v1/revision-types.ts';
import { QueueFullError } from './breaker.ts';
import { RevisionBackend, revisionSettings, SET_ASIDE_MS } from './revision-backend.ts';

const NO_STARTING = { starting: [], terminating: [] };

function backend(cc: number, queueDepth = 10): RevisionBackend {
  return new RevisionBackend(
    'ns/r',
    { ...revisionSettings(undefined), containerConcurrency: cc },
    queueDepth,
  );
}

describe('RevisionBackend', () => {
  it('holds requests while there is no pod and forwards them once one is ready', async () => {
    const b = backend(0);
    const signal = new AbortController().signal;
    const waiting = [b.reserve(signal), b.reserve(signal)];
    await new Promise((r) => setImmediate(r));
    expect(b.waiting).toBe(2);
    b.setEndpoints({ ready: ['10.0.0.1:8080'], ...NO_STARTING });
    const got = await Promise.all(waiting);
    expect(got.map((r) => r.tracker.dest)).toEqual(['10.0.0.1:8080', '10.0.0.1:8080']);
    for (const r of got) b.release(r);
    expect(b.inFlight).toBe(0);
  });

  it('admits containerConcurrency per pod and queues the rest, up to the queue depth', async () => {
    const b = backend(1, 1);
    b.setEndpoints({ ready: ['10.0.0.1:8080'], ...NO_STARTING });
    const signal = new AbortController().signal;
    const first = await b.reserve(signal);
    const second = b.reserve(signal);
    await expect(b.reserve(signal)).rejects.toBeInstanceOf(QueueFullError);
    b.release(first);
    const next = await second;
    expect(next.tracker.dest).toBe('10.0.0.1:8080');
    b.release(next);
  });

  it('reserves at once on the warm path, and never ahead of a request already queued', async () => {
    const b = backend(1);
    expect(b.tryReserve()).toBeUndefined(); // no pod
    expect(b.inFlight).toBe(0);
    b.setEndpoints({ ready: ['10.0.0.1:8080'], ...NO_STARTING });
    const first = b.tryReserve();
    expect(first?.tracker.dest).toBe('10.0.0.1:8080');
    expect(b.tryReserve()).toBeUndefined(); // the one slot is taken
    const queued = b.reserve(new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    expect(b.waiting).toBe(1);
    if (first !== undefined) b.release(first);
    // The freed slot went to the queued request, not to a newcomer.
    expect(b.tryReserve()).toBeUndefined();
    const next = await queued;
    b.release(next);
    expect(b.inFlight).toBe(0);
    expect(b.tryReserve()?.tracker.dest).toBe('10.0.0.1:8080');
  });

  it('takes only its share of the pods when containerConcurrency > 0 and there are two gateways', async () => {
    const b = backend(1);
    b.setPeers({ selfIndex: 1, count: 2 });
    b.setEndpoints({ ready: ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'], ...NO_STARTING });
    expect(b.readyPods).toBe(2);
    const signal = new AbortController().signal;
    const a = await b.reserve(signal);
    const c = await b.reserve(signal);
    expect([a.tracker.dest, c.tracker.dest].sort()).toEqual(['10.0.0.3:80', '10.0.0.4:80']);
  });

  it('drops a terminating pod from new requests', async () => {
    const b = backend(0);
    b.setEndpoints({ ready: ['10.0.0.1:80'], starting: [], terminating: ['10.0.0.2:80'] });
    const r = await b.reserve(new AbortController().signal);
    expect(r.tracker.dest).toBe('10.0.0.1:80');
  });

  it('sets aside a pod that refused a connection until SET_ASIDE_MS passes', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const b = backend(0);
      b.setEndpoints({ ready: ['10.0.0.1:80', '10.0.0.2:80'], ...NO_STARTING });
      b.setAside('10.0.0.1:80');
      const signal = new AbortController().signal;
      const picks = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const r = await b.reserve(signal);
        picks.add(r.tracker.dest);
        b.release(r);
      }
      expect([...picks]).toEqual(['10.0.0.2:80']);
      jest.advanceTimersByTime(SET_ASIDE_MS);
      b.setEndpoints({ ready: ['10.0.0.1:80'], ...NO_STARTING });
      expect((await b.reserve(signal)).tracker.dest).toBe('10.0.0.1:80');
    } finally {
      jest.useRealTimers();
    }
  });

  it('queues rather than use a set-aside pod, and forgets it once the slices drop it', async () => {
    const b = backend(0);
    b.setEndpoints({ ready: ['10.0.0.1:80'], ...NO_STARTING });
    b.setAside('10.0.0.1:80');
    expect(b.readyPods).toBe(0);
    const signal = new AbortController().signal;
    const waiting = b.reserve(signal);
    await new Promise((r) => setImmediate(r));
    expect(b.waiting).toBe(1);
    // The pod leaves and comes back under the same address (a new pod): it is usable at once.
    b.setEndpoints({ ready: [], ...NO_STARTING });
    b.setEndpoints({ ready: ['10.0.0.1:80'], ...NO_STARTING });
    expect((await waiting).tracker.dest).toBe('10.0.0.1:80');
    b.close(new Error('done'));
  });

  it("takes a lower queue depth from the revision's annotation, never a higher one", async () => {
    const signal = new AbortController().signal;
    const low = new RevisionBackend('ns/r', { ...revisionSettings(undefined), queueDepth: 1 }, 10);
    void low.reserve(signal).catch(() => undefined);
    await expect(low.reserve(signal)).rejects.toBeInstanceOf(QueueFullError);
    const high = new RevisionBackend('ns/r', { ...revisionSettings(undefined), queueDepth: 50 }, 1);
    void high.reserve(signal).catch(() => undefined);
    await expect(high.reserve(signal)).rejects.toBeInstanceOf(QueueFullError);
    low.close(new Error('done'));
    high.close(new Error('done'));
  });

  it('stops waiting when the request is aborted', async () => {
    const b = backend(0);
    const abort = new AbortController();
    const waiting = b.reserve(abort.signal);
    abort.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(b.waiting).toBe(0);
  });
});

describe('revisionSettings', () => {
  const rev = (spec: Partial<Revision['spec']>): Revision => ({
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Revision',
    metadata: {},
    spec: { containers: [], ...spec },
  });
  it.each([
    [
      'no revision: Knative defaults',
      undefined,
      { cc: 0, t: 300_000, rs: 300_000, idle: 0, probe: { kind: 'tcp' } },
    ],
    [
      'timeouts; responseStart defaults to timeout',
      rev({ timeoutSeconds: 2, idleTimeoutSeconds: 1, containerConcurrency: 1 }),
      { cc: 1, t: 2_000, rs: 2_000, idle: 1_000, probe: { kind: 'tcp' } },
    ],
    [
      'an httpGet readiness probe is probed on its path and port',
      rev({
        responseStartTimeoutSeconds: 5,
        containers: [
          {
            image: 'x',
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ready', port: 9000 } },
          },
        ],
      }),
      { cc: 0, t: 300_000, rs: 5_000, idle: 0, probe: { kind: 'http', path: '/ready', port: 9000 } },
    ],
  ])('%s', (_name, r, want) => {
    const s = revisionSettings(r);
    expect({
      cc: s.containerConcurrency,
      t: s.timeoutMs,
      rs: s.responseStartTimeoutMs,
      idle: s.idleTimeoutMs,
      probe: s.probe,
    }).toEqual(want);
  });
});
