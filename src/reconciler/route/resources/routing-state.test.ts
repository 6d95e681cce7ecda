// Table tests of routing metadata: which revisions a Route references, and the routes annotation
// and routingState label patches that follow, after Knative's labeler.
import { describe, expect, it } from '@jest/globals';
import type { TrafficTarget } from '../../../apis/serving/v1/route-types.ts';
import type { TrafficLookup } from '../traffic.ts';
import {
  configurationRoutingPatches,
  revisionRoutingPatches,
  routedObjects,
  routingStateModified,
  type MetadataPatch,
  type RoutedObject,
} from './routing-state.ts';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const STAMP = '2026-01-02T03:04:05Z';
const ROUTES = 'serving.knative.dev/routes';
const STATE = 'serving.knative.dev/routingState';
const MODIFIED = 'serving.knative.dev/routingStateModified';

const rev = (name: string, state?: string, routes?: string): RoutedObject => ({
  name,
  labels: state === undefined ? {} : { [STATE]: state },
  annotations: routes === undefined ? {} : { [ROUTES]: routes },
});

describe('routingStateModified', () => {
  it('is RFC 3339 in UTC to the second', () => {
    expect(routingStateModified(NOW)).toBe(STAMP);
  });
});

describe('revisionRoutingPatches', () => {
  const cases: [string, RoutedObject[], string[], boolean | undefined, MetadataPatch[]][] = [
    [
      'a new referenced revision turns active',
      [rev('r-1', 'pending')],
      ['r-1'],
      undefined,
      [{ name: 'r-1', labels: { [STATE]: 'active' }, annotations: { [ROUTES]: 'r', [MODIFIED]: STAMP } }],
    ],
    [
      'a reserve revision referenced again joins the other routes, sorted',
      [rev('r-1', 'reserve', 'z')],
      ['r-1'],
      undefined,
      [{ name: 'r-1', labels: { [STATE]: 'active' }, annotations: { [ROUTES]: 'r,z', [MODIFIED]: STAMP } }],
    ],
    [
      'an active revision already listing the route is left alone',
      [rev('r-1', 'active', 'a,r')],
      ['r-1'],
      undefined,
      [],
    ],
    [
      'an active revision of another route gains this one, state unchanged',
      [rev('r-1', 'active', 'a')],
      ['r-1'],
      undefined,
      [{ name: 'r-1', annotations: { [ROUTES]: 'a,r' } }],
    ],
    [
      'a revision this route let go turns reserve',
      [rev('r-1', 'active', 'r')],
      [],
      undefined,
      [{ name: 'r-1', labels: { [STATE]: 'reserve' }, annotations: { [ROUTES]: null, [MODIFIED]: STAMP } }],
    ],
    [
      'a revision another route still uses stays active',
      [rev('r-1', 'active', 'a,r')],
      [],
      undefined,
      [{ name: 'r-1', annotations: { [ROUTES]: 'a' } }],
    ],
    ['a pending revision nobody references is left alone', [rev('r-1', 'pending')], [], undefined, []],
    ['a reserve revision is left alone', [rev('r-1', 'reserve', 'r')], [], undefined, []],
    ['another route’s revision is left alone', [rev('r-1', 'active', 'a')], [], undefined, []],
    ['nothing is let go before the Route settles', [rev('r-1', 'active', 'r')], [], false, []],
    [
      'several revisions, patches sorted by name',
      [rev('r-3', 'pending'), rev('r-1', 'active', 'r'), rev('r-2', 'active', 'r')],
      ['r-2', 'r-3'],
      true,
      [
        { name: 'r-1', labels: { [STATE]: 'reserve' }, annotations: { [ROUTES]: null, [MODIFIED]: STAMP } },
        { name: 'r-3', labels: { [STATE]: 'active' }, annotations: { [ROUTES]: 'r', [MODIFIED]: STAMP } },
      ],
    ],
  ];

  it.each(cases)('%s', (_name, objects, referenced, clearUnreferenced, expected) => {
    expect(
      revisionRoutingPatches({
        route: 'r',
        referenced: new Set(referenced),
        objects,
        now: NOW,
        ...(clearUnreferenced !== undefined ? { clearUnreferenced } : {}),
      }),
    ).toStrictEqual(expected);
  });
});

describe('configurationRoutingPatches', () => {
  const cfg = (name: string, routes?: string): RoutedObject => ({
    name,
    annotations: routes === undefined ? {} : { [ROUTES]: routes },
  });
  const cases: [string, RoutedObject[], string[], boolean, MetadataPatch[]][] = [
    [
      'a referenced configuration gains the route',
      [cfg('c')],
      ['c'],
      true,
      [{ name: 'c', annotations: { [ROUTES]: 'r' } }],
    ],
    [
      'one no longer referenced loses it',
      [cfg('c', 'a,r')],
      [],
      true,
      [{ name: 'c', annotations: { [ROUTES]: 'a' } }],
    ],
    [
      'the last route removes the annotation',
      [cfg('c', 'r')],
      [],
      true,
      [{ name: 'c', annotations: { [ROUTES]: null } }],
    ],
    ['nothing is let go before the Route settles', [cfg('c', 'r')], [], false, []],
    ['unrelated configurations are left alone', [cfg('c', 'a'), cfg('d')], [], true, []],
  ];

  it.each(cases)('%s', (_name, objects, referenced, clearUnreferenced, expected) => {
    expect(
      configurationRoutingPatches({
        route: 'r',
        referenced: new Set(referenced),
        objects,
        clearUnreferenced,
      }),
    ).toStrictEqual(expected);
  });
});

describe('routedObjects', () => {
  const lookup: TrafficLookup = {
    configuration: (name) =>
      name === 'cfg'
        ? {
            name,
            ready: 'True',
            latestReadyRevisionName: 'cfg-00002',
            latestCreatedRevisionName: 'cfg-00003',
          }
        : undefined,
    revision: (name) =>
      ['cfg-00001', 'cfg-00002', 'cfg-00003'].includes(name)
        ? { name, configurationName: 'cfg', ready: 'True' }
        : name === 'plain'
          ? { name, ready: 'True' }
          : undefined,
  };
  const cases: [string, TrafficTarget[], TrafficTarget[], string[], string[]][] = [
    [
      'a latest target adds the latest created revision, before it is ready',
      [{ configurationName: 'cfg', latestRevision: true, percent: 100 }],
      [],
      ['cfg-00003'],
      ['cfg'],
    ],
    [
      'status entries add what traffic still reaches, and their configuration',
      [{ configurationName: 'cfg', latestRevision: true, percent: 100 }],
      [
        { revisionName: 'cfg-00001', latestRevision: true, percent: 60 },
        { revisionName: 'cfg-00002', latestRevision: true, percent: 40 },
      ],
      ['cfg-00001', 'cfg-00002', 'cfg-00003'],
      ['cfg'],
    ],
    [
      'a pinned revision adds itself and its configuration, not the latest created',
      [{ revisionName: 'cfg-00001', latestRevision: false, percent: 100 }],
      [],
      ['cfg-00001'],
      ['cfg'],
    ],
    [
      'unknown names are skipped',
      [
        { revisionName: 'gone', latestRevision: false, percent: 50 },
        { configurationName: 'nope', latestRevision: true, percent: 0 },
        { revisionName: 'plain', latestRevision: false, percent: 50 },
      ],
      [],
      ['plain'],
      [],
    ],
  ];

  it.each(cases)('%s', (_name, spec, status, revisions, configurations) => {
    const found = routedObjects({ spec: { traffic: spec }, status: { traffic: status } }, lookup);
    expect([...found.revisions].sort()).toEqual(revisions);
    expect([...found.configurations].sort()).toEqual(configurations);
  });
});
