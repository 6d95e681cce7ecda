// Table tests for the Service's status as Knative's service reconciler computes it from its
// Configuration and Route: OutOfDate children, propagated Ready conditions, TrafficNotMigrated,
// NotOwned and RevisionNameTaken, and which status fields are copied up.
import { describe, expect, it } from '@jest/globals';
import type { Condition, ConditionStatus } from '../../apis/meta/v1.ts';
import type { Configuration } from '../../apis/serving/v1/configuration-types.ts';
import type { Route, TrafficTarget } from '../../apis/serving/v1/route-types.ts';
import type { Service, ServiceStatus } from '../../apis/serving/v1/service-types.ts';
import { serviceStatus, type ServiceChildren } from './service-status.ts';

const NOW = new Date('2025-01-10T00:00:00Z');
const T_NOW = '2025-01-10T00:00:00Z';
const T_OLD = '2025-01-01T00:00:00Z';

const CFG_OUT_OF_DATE = 'The Configuration is still working to reflect the latest desired specification.';
const ROUTE_OUT_OF_DATE = 'The Route is still working to reflect the latest desired specification.';
const NOT_MIGRATED = 'Traffic is not yet migrated to the latest revision.';
const URL = 'http://hello.default.example.com';
const ADDRESS = { url: 'http://hello.default.svc.cluster.local' };

function c(type: string, status: ConditionStatus, at: string, reason?: string, message?: string): Condition {
  const out: Condition = { type, status, lastTransitionTime: at };
  if (reason !== undefined) out.reason = reason;
  if (message !== undefined) out.message = message;
  return out;
}

/** The Service's three conditions, in the order they are stored. */
function conds(cr: Condition, ready: Condition, rr: Condition): Condition[] {
  return [
    { ...cr, type: 'ConfigurationsReady' },
    { ...ready, type: 'Ready' },
    { ...rr, type: 'RoutesReady' },
  ];
}

function svc(status?: ServiceStatus): Service {
  const s: Service = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'hello', namespace: 'default', uid: 'svc-uid', generation: 2 },
    spec: { template: {} },
  };
  if (status !== undefined) s.status = status;
  return s;
}

interface CfgOptions {
  observed?: boolean;
  ready?: Condition;
  latestCreated?: string;
  latestReady?: string;
}

function cfg(o: CfgOptions): Configuration {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Configuration',
    metadata: { name: 'hello', namespace: 'default', generation: 2 },
    spec: { template: {} },
    status: {
      observedGeneration: o.observed === false ? 1 : 2,
      ...(o.ready === undefined ? {} : { conditions: [o.ready] }),
      ...(o.latestCreated === undefined ? {} : { latestCreatedRevisionName: o.latestCreated }),
      ...(o.latestReady === undefined ? {} : { latestReadyRevisionName: o.latestReady }),
    },
  };
}

const LATEST: TrafficTarget[] = [{ configurationName: 'hello', latestRevision: true, percent: 100 }];

function route(o: {
  observed?: boolean;
  ready?: Condition;
  spec?: TrafficTarget[];
  traffic?: TrafficTarget[];
}): Route {
  const r: Route = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Route',
    metadata: { name: 'hello', namespace: 'default', generation: 3 },
    spec: { traffic: o.spec ?? LATEST },
    status: { observedGeneration: o.observed === false ? 2 : 3, url: URL, address: ADDRESS },
  };
  if (r.status !== undefined) {
    if (o.ready !== undefined) r.status.conditions = [o.ready];
    if (o.traffic !== undefined) r.status.traffic = o.traffic;
  }
  return r;
}

const ROUTED_TO = (name: string): TrafficTarget[] => [
  { revisionName: name, latestRevision: true, percent: 100 },
];
const TRUE = c('Ready', 'True', T_OLD);
const ALL_TRUE_OLD = conds(c('', 'True', T_OLD), c('', 'True', T_OLD), c('', 'True', T_OLD));

interface Case {
  old?: ServiceStatus;
  children: ServiceChildren;
  want: ServiceStatus;
}

const cases: [string, Case][] = [
  [
    'nothing yet: every condition initialized Unknown',
    {
      children: {},
      want: { conditions: conds(c('', 'Unknown', T_NOW), c('', 'Unknown', T_NOW), c('', 'Unknown', T_NOW)) },
    },
  ],
  [
    'both children still catching up: OutOfDate, Ready carries the last one marked (the Route)',
    {
      children: {
        configuration: cfg({ observed: false }),
        route: route({ observed: false }),
      },
      want: {
        url: URL,
        address: ADDRESS,
        conditions: conds(
          c('', 'Unknown', T_NOW, 'OutOfDate', CFG_OUT_OF_DATE),
          c('', 'Unknown', T_NOW, 'OutOfDate', ROUTE_OUT_OF_DATE),
          c('', 'Unknown', T_NOW, 'OutOfDate', ROUTE_OUT_OF_DATE),
        ),
      },
    },
  ],
  [
    'both children ready and the traffic migrated: Ready, with the children’s fields',
    {
      children: {
        configuration: cfg({ ready: TRUE, latestCreated: 'hello-00002', latestReady: 'hello-00002' }),
        route: route({ ready: TRUE, traffic: ROUTED_TO('hello-00002') }),
      },
      want: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00002',
        url: URL,
        address: ADDRESS,
        traffic: ROUTED_TO('hello-00002'),
        conditions: conds(c('', 'True', T_NOW), c('', 'True', T_NOW), c('', 'True', T_NOW)),
      },
    },
  ],
  [
    'recomputing an unchanged Ready Service keeps every transition time',
    {
      old: { conditions: ALL_TRUE_OLD },
      children: {
        configuration: cfg({ ready: TRUE, latestCreated: 'hello-00002', latestReady: 'hello-00002' }),
        route: route({ ready: TRUE, traffic: ROUTED_TO('hello-00002') }),
      },
      want: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00002',
        url: URL,
        address: ADDRESS,
        traffic: ROUTED_TO('hello-00002'),
        conditions: ALL_TRUE_OLD,
      },
    },
  ],
  [
    'the Route is ready but still serves the previous revision: TrafficNotMigrated',
    {
      old: { conditions: ALL_TRUE_OLD },
      children: {
        configuration: cfg({ ready: TRUE, latestCreated: 'hello-00003', latestReady: 'hello-00003' }),
        route: route({ ready: TRUE, traffic: ROUTED_TO('hello-00002') }),
      },
      want: {
        latestCreatedRevisionName: 'hello-00003',
        latestReadyRevisionName: 'hello-00003',
        url: URL,
        address: ADDRESS,
        traffic: ROUTED_TO('hello-00002'),
        conditions: conds(
          c('', 'True', T_OLD),
          c('', 'Unknown', T_NOW, 'TrafficNotMigrated', NOT_MIGRATED),
          c('', 'Unknown', T_NOW, 'TrafficNotMigrated', NOT_MIGRATED),
        ),
      },
    },
  ],
  [
    'the Route is ready but lists fewer targets than asked: TrafficNotMigrated',
    {
      old: { conditions: ALL_TRUE_OLD },
      children: {
        configuration: cfg({ ready: TRUE, latestReady: 'hello-00002' }),
        route: route({
          ready: TRUE,
          spec: [...LATEST.map((t) => ({ ...t, percent: 90 })), { revisionName: 'hello-00001', percent: 10 }],
          traffic: ROUTED_TO('hello-00002'),
        }),
      },
      want: {
        latestReadyRevisionName: 'hello-00002',
        url: URL,
        address: ADDRESS,
        traffic: ROUTED_TO('hello-00002'),
        conditions: conds(
          c('', 'True', T_OLD),
          c('', 'Unknown', T_NOW, 'TrafficNotMigrated', NOT_MIGRATED),
          c('', 'Unknown', T_NOW, 'TrafficNotMigrated', NOT_MIGRATED),
        ),
      },
    },
  ],
  [
    'pinned and tagged targets match when the Route serves them; URLs and latestRevision are ignored',
    {
      old: { conditions: ALL_TRUE_OLD },
      children: {
        configuration: cfg({ ready: TRUE, latestReady: 'hello-00002' }),
        route: route({
          ready: TRUE,
          spec: [
            { configurationName: 'hello', latestRevision: true, percent: 50, tag: 'latest' },
            { revisionName: 'hello-00001', latestRevision: false, percent: 50 },
            { revisionName: 'hello-00001', tag: 'old' },
          ],
          traffic: [
            {
              revisionName: 'hello-00002',
              latestRevision: true,
              percent: 50,
              tag: 'latest',
              url: 'http://latest-hello',
            },
            { revisionName: 'hello-00001', latestRevision: false, percent: 50 },
            { revisionName: 'hello-00001', tag: 'old', url: 'http://old-hello' },
          ],
        }),
      },
      want: {
        latestReadyRevisionName: 'hello-00002',
        url: URL,
        address: ADDRESS,
        traffic: [
          {
            revisionName: 'hello-00002',
            latestRevision: true,
            percent: 50,
            tag: 'latest',
            url: 'http://latest-hello',
          },
          { revisionName: 'hello-00001', latestRevision: false, percent: 50 },
          { revisionName: 'hello-00001', tag: 'old', url: 'http://old-hello' },
        ],
        conditions: ALL_TRUE_OLD,
      },
    },
  ],
  [
    'a failed Configuration fails the Service with its reason',
    {
      children: {
        configuration: cfg({
          ready: c(
            'Ready',
            'False',
            T_OLD,
            'RevisionFailed',
            'Revision "hello-00002" failed with message: boom.',
          ),
          latestCreated: 'hello-00002',
          latestReady: 'hello-00001',
        }),
        route: route({ ready: TRUE, traffic: ROUTED_TO('hello-00001') }),
      },
      want: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00001',
        url: URL,
        address: ADDRESS,
        traffic: ROUTED_TO('hello-00001'),
        conditions: conds(
          c('', 'False', T_NOW, 'RevisionFailed', 'Revision "hello-00002" failed with message: boom.'),
          c('', 'False', T_NOW, 'RevisionFailed', 'Revision "hello-00002" failed with message: boom.'),
          c('', 'True', T_NOW),
        ),
      },
    },
  ],
  [
    'a failed Route fails the Service with its reason',
    {
      children: {
        configuration: cfg({ ready: TRUE, latestCreated: 'hello-00001', latestReady: 'hello-00001' }),
        route: route({ ready: c('Ready', 'False', T_OLD, 'RevisionMissing', 'gone') }),
      },
      want: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        url: URL,
        address: ADDRESS,
        conditions: conds(
          c('', 'True', T_NOW),
          c('', 'False', T_NOW, 'RevisionMissing', 'gone'),
          c('', 'False', T_NOW, 'RevisionMissing', 'gone'),
        ),
      },
    },
  ],
  [
    'children without a Ready condition leave their dependents as they were',
    {
      children: { configuration: cfg({}), route: route({}) },
      want: {
        url: URL,
        address: ADDRESS,
        conditions: conds(c('', 'Unknown', T_NOW), c('', 'Unknown', T_NOW), c('', 'Unknown', T_NOW)),
      },
    },
  ],
  [
    'a Route catching up after being ready: RoutesReady back to OutOfDate',
    {
      old: { conditions: ALL_TRUE_OLD },
      children: {
        configuration: cfg({ ready: TRUE, latestCreated: 'hello-00002', latestReady: 'hello-00002' }),
        route: route({ observed: false, ready: TRUE, traffic: ROUTED_TO('hello-00002') }),
      },
      want: {
        latestCreatedRevisionName: 'hello-00002',
        latestReadyRevisionName: 'hello-00002',
        url: URL,
        address: ADDRESS,
        traffic: ROUTED_TO('hello-00002'),
        conditions: conds(
          c('', 'True', T_OLD),
          c('', 'Unknown', T_NOW, 'OutOfDate', ROUTE_OUT_OF_DATE),
          c('', 'Unknown', T_NOW, 'OutOfDate', ROUTE_OUT_OF_DATE),
        ),
      },
    },
  ],
  [
    'a Route that is not ours: RoutesReady False NotOwned',
    {
      children: {
        configuration: cfg({ ready: TRUE, latestCreated: 'hello-00001', latestReady: 'hello-00001' }),
        routeNotOwned: true,
      },
      want: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        conditions: conds(
          c('', 'True', T_NOW),
          c('', 'False', T_NOW, 'NotOwned', 'There is an existing Route "hello" that we do not own.'),
          c('', 'False', T_NOW, 'NotOwned', 'There is an existing Route "hello" that we do not own.'),
        ),
      },
    },
  ],
  [
    'a Configuration that is not ours: ConfigurationsReady False NotOwned, earlier fields kept',
    {
      old: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        url: URL,
        conditions: ALL_TRUE_OLD,
      },
      children: { configurationNotOwned: true },
      want: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        url: URL,
        conditions: conds(
          c('', 'False', T_NOW, 'NotOwned', 'There is an existing Configuration "hello" that we do not own.'),
          c('', 'False', T_NOW, 'NotOwned', 'There is an existing Configuration "hello" that we do not own.'),
          c('', 'True', T_OLD),
        ),
      },
    },
  ],
  [
    'a bring-your-own revision name taken by another Revision: RevisionNameTaken, the URL stays',
    {
      old: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        url: URL,
        address: ADDRESS,
        traffic: ROUTED_TO('hello-00001'),
        conditions: ALL_TRUE_OLD,
      },
      children: {
        configuration: cfg({ ready: TRUE, latestCreated: 'hello-00001', latestReady: 'hello-00001' }),
        route: route({ ready: TRUE, traffic: ROUTED_TO('hello-00001') }),
        revisionNameTaken: 'hello-blue',
      },
      want: {
        latestCreatedRevisionName: 'hello-00001',
        latestReadyRevisionName: 'hello-00001',
        url: URL,
        address: ADDRESS,
        traffic: ROUTED_TO('hello-00001'),
        conditions: conds(
          c('', 'True', T_OLD),
          c(
            '',
            'False',
            T_NOW,
            'RevisionNameTaken',
            'The revision name "hello-blue" is taken by a conflicting Revision, so traffic will not be migrated',
          ),
          c(
            '',
            'False',
            T_NOW,
            'RevisionNameTaken',
            'The revision name "hello-blue" is taken by a conflicting Revision, so traffic will not be migrated',
          ),
        ),
      },
    },
  ],
];

describe('serviceStatus', () => {
  it.each(cases)('%s', (_name, tc) => {
    expect(serviceStatus(svc(tc.old), tc.children, NOW)).toEqual(tc.want);
  });

  it('leaves observedGeneration to the caller', () => {
    expect(serviceStatus(svc(), {}, NOW).observedGeneration).toBeUndefined();
  });
});
