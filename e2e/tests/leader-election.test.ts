// Lease-based leader election against the real API server: one leader at a time, an immediate
// handover when the leader stops, and a takeover after the lease duration when it crashes.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CoordinationV1Api } from '@kubernetes/client-node';
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

function elector(identity: string, events: string[]): LeaderElector {
  const e = new LeaderElector(coordination, {
    namespace: ns,
    name: 'ebb-controller',
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

async function lease() {
  return coordination.readNamespacedLease({ name: 'ebb-controller', namespace: ns });
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
