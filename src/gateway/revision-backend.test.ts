// Tests of one revision's admission path: requests wait while it has no pod and go the moment
// one is ready, containerConcurrency bounds what one replica admits (only the pods it owns when
// there are several gateways, passing requests on when it owns none), and a revision's spec gives
// its limits with Knative's defaults.
import { describe, expect, it, jest } from '@jest/globals';
import type { Revision } from '../apis/serving/v1/revision-types.ts';
import { QueueFullError } from './breaker.ts';
import { HANDOFF_MS, podOwnership } from './pod-ownership.ts';
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

  it('admits only to the pods it owns when containerConcurrency > 0 and there are other replicas', async () => {
    const pods = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80', '10.0.0.5:80', '10.0.0.6:80'];
    const gateways = ['10.1.0.1:8082', '10.1.0.2:8082'];
    const seen = new Set<string>();
    for (const self of gateways) {
      const b = backend(1);
      b.setPeers({ self, gateways, changedAt: 0 });
      b.setEndpoints({ ready: pods, ...NO_STARTING });
      const mine = podOwnership(pods, self, gateways, 1).owned;
      expect(b.readyPods).toBe(mine.length);
      const signal = new AbortController().signal;
      for (let i = 0; i < mine.length; i++) seen.add((await b.reserve(signal, true)).tracker.dest);
      expect(b.tryReserve(true)).toBeUndefined();
    }
    // Between them the replicas use every pod, each exactly once.
    expect([...seen].sort()).toEqual(pods);
  });

  it('passes requests to a replica that owns a pod when it owns none, and waiters leave its queue for it', async () => {
    const gateways = ['10.1.0.1:8082', '10.1.0.2:8082', '10.1.0.3:8082'];
    const pod = '10.0.0.1:80';
    const self = gateways.find((g) => podOwnership([pod], g, gateways, 1).owned.length === 0) ?? '';
    const b = backend(1);
    b.setPeers({ self, gateways, changedAt: 0 });
    const signal = new AbortController().signal;
    const waiting = b.reserve(signal);
    await new Promise((r) => setImmediate(r));
    expect(b.waiting).toBe(1);
    b.setEndpoints({ ready: [pod], ...NO_STARTING });
    const passed = await waiting;
    expect(passed.tracker.peer).toBe(true);
    expect(gateways).toContain(passed.tracker.dest);
    expect(passed.tracker.dest).not.toBe(self);
    expect(podOwnership([pod], passed.tracker.dest, gateways, 1).owned).toEqual([pod]);
    // Unbounded towards the owner, which queues: ten at once, none held here.
    const more = Array.from({ length: 10 }, () => b.tryReserve());
    expect(more.every((r) => r?.tracker.peer === true)).toBe(true);
    expect(b.inFlight).toBe(0);
    // A request another replica passed here is never passed on: it waits for an owned pod.
    expect(b.tryReserve(true)).toBeUndefined();
    for (const r of [passed, ...more]) if (r !== undefined) b.release(r);
  });

  it('uses a pod it gains from another replica only HANDOFF_MS after the replica set changed', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const pods = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'];
      const before = ['10.1.0.1:8082'];
      const after = ['10.1.0.1:8082', '10.1.0.2:8082'];
      const b = backend(1);
      b.setPeers({ self: '10.1.0.2:8082', gateways: before, changedAt: Date.now() - 10_000 });
      b.setEndpoints({ ready: pods, ...NO_STARTING });
      // Not among the ready replicas yet: it owns nothing and passes everything on.
      expect(b.readyPods).toBe(0);
      b.setPeers({ self: '10.1.0.2:8082', gateways: after, changedAt: Date.now() });
      const gained = podOwnership(pods, '10.1.0.2:8082', after, 1).owned.length;
      expect(gained).toBeGreaterThan(0);
      expect(b.readyPods).toBe(0);
      jest.advanceTimersByTime(HANDOFF_MS);
      expect(b.readyPods).toBe(gained);
      // A pod that just became ready was nobody's: it is used at once.
      const fresh = ['10.0.0.9:80', '10.0.0.10:80', '10.0.0.11:80', '10.0.0.12:80'].find(
        (p) => podOwnership([p], '10.1.0.2:8082', after, 1).owned.length > 0,
      );
      b.setPeers({ self: '10.1.0.2:8082', gateways: after, changedAt: Date.now() });
      if (fresh !== undefined) {
        b.setEndpoints({ ready: [...pods, fresh], ...NO_STARTING });
        expect(b.readyPods).toBe(gained + 1);
      }
      b.close(new Error('test over'));
    } finally {
      jest.useRealTimers();
    }
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
      'no revision: timeoutSeconds of 300 s, no other limit',
      undefined,
      { cc: 0, t: 300_000, rs: 0, idle: 0, probe: { kind: 'tcp' } },
    ],
    [
      'timeouts; responseStart unset sets no limit (0)',
      rev({ timeoutSeconds: 2, idleTimeoutSeconds: 1, containerConcurrency: 1 }),
      { cc: 1, t: 2_000, rs: 0, idle: 1_000, probe: { kind: 'tcp' } },
    ],
    [
      'responseStart and idle set to 0 stay 0: no limit (Knative e2e TestRevisionTimeout)',
      rev({ timeoutSeconds: 10, responseStartTimeoutSeconds: 0, idleTimeoutSeconds: 0 }),
      { cc: 0, t: 10_000, rs: 0, idle: 0, probe: { kind: 'tcp' } },
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
