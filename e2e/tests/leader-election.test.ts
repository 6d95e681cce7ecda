// Lease-based leader election against the real API server: one leader at a time, an immediate
// handover when the leader stops, a takeover after the lease duration when it crashes, and a
// leader whose connection to the API server goes silent stepping down before anyone can take over.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { LeaderElector } from '../../src/controller/leader-election.ts';
import { createNamespace, deleteNamespace, eventually, kc } from './kube.ts';

const coordination = kc.makeApiClient(CoordinationV1Api);
let ns: string;
const electors: LeaderElector[] = [];

beforeAll(async () => {
  ns = await createNamespace('e2e-leader');
});

afterAll(async () => {
  await Promise.all(electors.map((e) => e.stop()));
  await deleteNamespace(ns);
});

function elector(
  identity: string,
  events: string[],
  api = coordination,
  name = 'ebb-controller',
): LeaderElector {
  const e = new LeaderElector(api, {
    namespace: ns,
    name,
    identity,
    leaseDurationMs: 4000,
    renewDeadlineMs: 3000,
    retryPeriodMs: 500,
    onStartedLeading: () => events.push(`${identity} leads`),
    onStoppedLeading: () => events.push(`${identity} stops`),
    onNewLeader: (leader) => events.push(`${identity} sees ${leader}`),
  });
  electors.push(e);
  e.start();
  return e;
}

async function lease(name = 'ebb-controller') {
  return coordination.readNamespacedLease({ name, namespace: ns });
}

it('keeps one leader, hands over at once on a clean stop, and takes over after the lease duration on a crash', async () => {
  const events: string[] = [];
  const a = elector('a', events);
  await eventually('a to lead', () => (a.isLeader ? true : undefined));
  const b = elector('b', events);
  await eventually('b to see a', () => (events.includes('b sees a') ? true : undefined));
  expect(b.isLeader).toBe(false);

  await a.stop();
  await eventually('b to lead', () => (b.isLeader ? true : undefined));
  expect((await lease()).spec?.holderIdentity).toBe('b');
  expect((await lease()).spec?.leaseTransitions).toBe(0);

  const c = elector('c', events);
  await eventually('c to see b', () => (events.includes('c sees b') ? true : undefined));
  const lastRenewByB = (await lease()).spec?.renewTime;
  await b.stop(false);
  const taken = await eventually('c to lead', async () => (c.isLeader ? await lease() : undefined), 30_000);
  expect(taken.spec?.holderIdentity).toBe('c');
  expect(taken.spec?.leaseTransitions).toBe(1);
  // A crashed holder's lease is never taken before it expires (less one retry period of skew
  // between b's last renewal and c first seeing it).
  const waited = new Date(taken.spec?.acquireTime ?? 0).getTime() - new Date(lastRenewByB ?? 0).getTime();
  expect(waited).toBeGreaterThanOrEqual(4000 - 500);
  expect(events.filter((e) => e.endsWith('leads'))).toEqual(['a leads', 'b leads', 'c leads']);
});

/**
 * A TCP relay to the API server that can go silent: after freeze() it keeps every connection open
 * and forwards nothing, as a network partition or a vanished peer behind a Service IP does.
 */
async function silenceableRelay(
  target: URL,
): Promise<{ port: number; freeze: () => void; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (frozen) {
      client.pause();
      return;
    }
    const upstream = connect(Number(target.port || 443), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      frozen = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

it('a leader cut off from the API server steps down before its lease can pass to another', async () => {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const relay = await silenceableRelay(new URL(cluster.server));
  try {
    // a reaches the API server only through the relay; every API server certificate names
    // kubernetes.default.svc.
    const cut = new KubeConfig();
    cut.loadFromOptions({
      clusters: kc.clusters.map((c) =>
        c.name === cluster.name
          ? { ...c, server: `https://127.0.0.1:${relay.port}`, tlsServerName: 'kubernetes.default.svc' }
          : c,
      ),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    const events: string[] = [];
    const a = elector('a', events, cut.makeApiClient(CoordinationV1Api), 'ebb-partition');
    await eventually('a to lead', () => (a.isLeader ? true : undefined));
    const b = elector('b', events, coordination, 'ebb-partition');
    await eventually('b to see a', () => (events.includes('b sees a') ? true : undefined));

    relay.freeze();
    await eventually('b to lead', () => (b.isLeader ? true : undefined), 30_000);
    // Never two leaders: a gave up before b took the lease.
    expect(a.isLeader).toBe(false);
    expect(events.filter((e) => e.endsWith('leads') || e.endsWith('stops'))).toEqual([
      'a leads',
      'a stops',
      'b leads',
    ]);
    expect((await lease('ebb-partition')).spec?.holderIdentity).toBe('b');
    await a.stop(false);
  } finally {
    await relay.close();
  }
});
