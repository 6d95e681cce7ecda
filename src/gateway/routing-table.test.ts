// Table tests of the gateway's host lookup: public, cluster-local and tag hosts per listener,
// host normalization, Knative-Serving-Tag routing, routes without traffic, and host conflicts.
import { describe, expect, it } from '@jest/globals';
import type { Route, TrafficTarget } from '../apis/serving/v1/route-types.ts';
import { normalizeHost, RoutingTable, type RouteMatch, type RouteRequest } from './routing-table.ts';

function route(
  name: string,
  status: Route['status'],
  labels: Record<string, string> = {},
  namespace = 'ns',
): Route {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Route',
    metadata: { name, namespace, labels },
    spec: {},
    ...(status !== undefined ? { status } : {}),
  };
}

const LOCAL = { 'networking.knative.dev/visibility': 'cluster-local' };

const t = (revisionName: string, percent: number, tag?: string, url?: string): TrafficTarget => ({
  revisionName,
  percent,
  ...(tag !== undefined ? { tag } : {}),
  ...(url !== undefined ? { url } : {}),
});

/** A public route r with 70/30 over two revisions and tags: v1 (on r-1 at 70 %), v3 (0 %). */
const publicRoute = route('r', {
  url: 'http://r.ns.example.com',
  address: { url: 'http://r.ns.svc.cluster.local' },
  traffic: [
    t('r-1', 70, 'v1', 'http://v1-r.ns.example.com'),
    t('r-2', 30),
    t('r-3', 0, 'v3', 'http://v3-r.ns.example.com'),
  ],
});

const privateRoute = route(
  'p',
  {
    url: 'http://p.ns.svc.cluster.local',
    address: { url: 'http://p.ns.svc.cluster.local' },
    traffic: [t('p-1', 100), t('p-1', 0, 'canary', 'http://canary-p.ns.svc.cluster.local')],
  },
  LOCAL,
);

/** Public route whose tag `beta` alone is cluster-local, via its URL. */
const mixedRoute = route('m', {
  url: 'http://m.ns.example.com',
  address: { url: 'http://m.ns.svc.cluster.local' },
  traffic: [t('m-1', 100), t('m-2', 0, 'beta', 'http://beta-m.ns.svc.cluster.local')],
});

const pendingRoute = route('w', { url: 'http://w.ns.example.com' });
const bareRoute = route('bare', undefined);
const zeroRoute = route('z', { url: 'http://z.ns.example.com', traffic: [t('z-1', 0, 'only')] });

const table = RoutingTable.build(
  [mixedRoute, privateRoute, publicRoute, pendingRoute, bareRoute, zeroRoute],
  {
    clusterDomain: 'cluster.local',
  },
);

const ref = (name: string) => ({ namespace: 'ns', name });
const split = (name: string, ...targets: { revisionName: string; percent: number; tag?: string }[]) => ({
  ready: true,
  route: ref(name),
  targets,
});
const tagged = (name: string, tag: string, revisionName: string) => ({
  ready: true,
  route: ref(name),
  targets: [{ revisionName, percent: 100, tag }],
  tag,
});
const notReady = (name: string, reason: string) => ({ ready: false, route: ref(name), reason });

const rSplit = split(
  'r',
  { revisionName: 'r-1', percent: 70, tag: 'v1' },
  { revisionName: 'r-2', percent: 30 },
);

describe('RoutingTable.lookup', () => {
  const cases: [string, RouteRequest, Partial<RouteMatch> | undefined][] = [
    ['public host, external', { host: 'r.ns.example.com', listener: 'external' }, rSplit],
    ['public host, internal', { host: 'r.ns.example.com', listener: 'internal' }, rSplit],
    [
      'host with port, upper case, trailing dot',
      { host: 'R.NS.Example.com.:8080', listener: 'external' },
      rSplit,
    ],
    ['name.ns on internal', { host: 'r.ns', listener: 'internal' }, rSplit],
    ['name.ns.svc on internal', { host: 'r.ns.svc', listener: 'internal' }, rSplit],
    ['full cluster name on internal', { host: 'r.ns.svc.cluster.local:80', listener: 'internal' }, rSplit],
    ['cluster name not on external', { host: 'r.ns.svc.cluster.local', listener: 'external' }, undefined],
    ['short name not on external', { host: 'r.ns', listener: 'external' }, undefined],
    ['public tag host', { host: 'v1-r.ns.example.com', listener: 'external' }, tagged('r', 'v1', 'r-1')],
    [
      'tag at 0 % still has its host',
      { host: 'v3-r.ns.example.com', listener: 'external' },
      tagged('r', 'v3', 'r-3'),
    ],
    [
      'tag cluster names on internal',
      { host: 'v3-r.ns.svc', listener: 'internal' },
      tagged('r', 'v3', 'r-3'),
    ],
    ['tag cluster names not on external', { host: 'v3-r.ns', listener: 'external' }, undefined],
    ['unknown host', { host: 'nope.ns.example.com', listener: 'internal' }, undefined],
    [
      'tag header ignored while the feature is off',
      { host: 'r.ns.example.com', listener: 'external', tagHeader: 'v3' },
      rSplit,
    ],
    [
      'tag header selects the tag when enabled',
      { host: 'r.ns.example.com', listener: 'external', tagHeader: 'v3', tagHeaderRouting: true },
      tagged('r', 'v3', 'r-3'),
    ],
    [
      'tag header also works on cluster names',
      { host: 'r.ns.svc', listener: 'internal', tagHeader: 'v1', tagHeaderRouting: true },
      tagged('r', 'v1', 'r-1'),
    ],
    [
      'unknown tag header falls back to the split',
      { host: 'r.ns.example.com', listener: 'external', tagHeader: 'nope', tagHeaderRouting: true },
      rSplit,
    ],
    [
      'empty tag header is no tag',
      { host: 'r.ns.example.com', listener: 'external', tagHeader: '', tagHeaderRouting: true },
      rSplit,
    ],
    [
      'tag header does not redirect a tag host',
      { host: 'v1-r.ns.example.com', listener: 'external', tagHeader: 'v3', tagHeaderRouting: true },
      tagged('r', 'v1', 'r-1'),
    ],
    [
      'cluster-local route: not external',
      { host: 'p.ns.svc.cluster.local', listener: 'external' },
      undefined,
    ],
    [
      'cluster-local route: internal',
      { host: 'p.ns.svc.cluster.local', listener: 'internal' },
      split('p', { revisionName: 'p-1', percent: 100 }),
    ],
    [
      'cluster-local tag: internal',
      { host: 'canary-p.ns', listener: 'internal' },
      tagged('p', 'canary', 'p-1'),
    ],
    [
      'cluster-local tag: not external',
      { host: 'canary-p.ns.svc.cluster.local', listener: 'external' },
      undefined,
    ],
    [
      'private tag of a public route: internal',
      { host: 'beta-m.ns.svc', listener: 'internal' },
      tagged('m', 'beta', 'm-2'),
    ],
    [
      'private tag of a public route: not external',
      { host: 'beta-m.ns.svc.cluster.local', listener: 'external' },
      undefined,
    ],
    [
      'public route of a private tag stays public',
      { host: 'm.ns.example.com', listener: 'external' },
      split('m', { revisionName: 'm-1', percent: 100 }),
    ],
    [
      'route without traffic yet: not ready',
      { host: 'w.ns.example.com', listener: 'external' },
      notReady('w', 'route ns/w has no traffic assigned yet'),
    ],
    [
      'route without status: cluster names answer not ready',
      { host: 'bare.ns.svc.cluster.local', listener: 'internal' },
      notReady('bare', 'route ns/bare has no traffic assigned yet'),
    ],
    [
      'traffic all at 0 %: main host not ready',
      { host: 'z.ns.example.com', listener: 'external' },
      notReady('z', 'route ns/z has no traffic target with percent > 0'),
    ],
  ];
  it.each(cases)('%s', (_name, request, expected) => {
    const match = table.lookup(request);
    if (expected === undefined) expect(match).toBeUndefined();
    else expect(match).toEqual(expected);
  });

  it('returns frozen, shared results', () => {
    const a = table.lookup({ host: 'r.ns.example.com', listener: 'external' });
    const b = table.lookup({ host: 'r.ns', listener: 'internal' });
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a?.ready === true && Object.isFrozen(a.targets)).toBe(true);
  });
});

describe('RoutingTable hosts', () => {
  const cases: [string, Route[], Parameters<typeof RoutingTable.build>[1], string[], string[]][] = [
    [
      'a public route with a tag',
      [
        route('r', {
          url: 'http://r.ns.example.com',
          traffic: [t('a', 100), t('a', 0, 'x', 'https://x-r.ns.example.com')],
        }),
      ],
      { clusterDomain: 'cluster.local' },
      ['r.ns.example.com', 'x-r.ns.example.com'],
      [
        'r.ns',
        'r.ns.example.com',
        'r.ns.svc',
        'r.ns.svc.cluster.local',
        'x-r.ns',
        'x-r.ns.example.com',
        'x-r.ns.svc',
        'x-r.ns.svc.cluster.local',
      ],
    ],
    [
      'a custom tag template names the cluster hosts of a public tag',
      [
        route('r', {
          url: 'http://r.ns.example.com',
          traffic: [t('a', 100), t('a', 0, 'x', 'http://r-x.ns.example.com')],
        }),
      ],
      { clusterDomain: 'cluster.local', tagHostname: (name, tag) => `${name}-${tag}` },
      ['r-x.ns.example.com', 'r.ns.example.com'],
      [
        'r-x.ns',
        'r-x.ns.example.com',
        'r-x.ns.svc',
        'r-x.ns.svc.cluster.local',
        'r.ns',
        'r.ns.example.com',
        'r.ns.svc',
        'r.ns.svc.cluster.local',
      ],
    ],
    [
      'a cluster-local tag URL names its cluster hosts whatever the template',
      [
        route(
          'r',
          {
            url: 'http://r.ns.svc.c.dev',
            traffic: [t('a', 100), t('a', 0, 'x', 'http://odd-x.ns.svc.c.dev')],
          },
          LOCAL,
        ),
      ],
      { clusterDomain: 'c.dev.' },
      [],
      ['odd-x.ns', 'odd-x.ns.svc', 'odd-x.ns.svc.c.dev', 'r.ns', 'r.ns.svc', 'r.ns.svc.c.dev'],
    ],
    [
      'a status.url in the cluster domain is cluster-local without the label',
      [route('r', { url: 'http://r.ns.svc.cluster.local', traffic: [t('a', 100)] })],
      { clusterDomain: 'cluster.local' },
      [],
      ['r.ns', 'r.ns.svc', 'r.ns.svc.cluster.local'],
    ],
    [
      'targets without a revision name are skipped',
      [route('r', { url: 'http://r.ns.example.com', traffic: [{ percent: 100, tag: 'x' }] })],
      { clusterDomain: 'cluster.local' },
      ['r.ns.example.com'],
      ['r.ns', 'r.ns.example.com', 'r.ns.svc', 'r.ns.svc.cluster.local'],
    ],
  ];
  it.each(cases)('%s', (_name, routes, options, external, internal) => {
    const built = RoutingTable.build(routes, options);
    expect(built.hosts('external')).toEqual(external);
    expect(built.hosts('internal')).toEqual(internal);
    expect(built.warnings).toEqual([]);
  });

  it('keeps the first route (by namespace/name) on a contested host and says so', () => {
    const a = route('a', { url: 'http://same.example.com', traffic: [t('a-1', 100)] });
    const b = route('b', { url: 'http://same.example.com', traffic: [t('b-1', 100)] });
    const built = RoutingTable.build([b, a], { clusterDomain: 'cluster.local' });
    expect(built.lookup({ host: 'same.example.com', listener: 'external' })?.route).toEqual(ref('a'));
    expect(built.warnings).toEqual(['ns/b: host same.example.com is already served by route ns/a']);
  });

  it('reports an unusable URL with its path', () => {
    const bad = route('r', { url: 'not a url', traffic: [t('r-1', 100)] });
    const built = RoutingTable.build([bad], { clusterDomain: 'cluster.local' });
    expect(built.warnings).toEqual(['ns/r: status.url: not a URL with a host: "not a url"']);
    expect(built.lookup({ host: 'r.ns.svc', listener: 'internal' })?.ready).toBe(true);
  });
});

describe('normalizeHost', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com.:80', 'example.com'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    [' r.ns ', 'r.ns'],
  ])('%s -> %s', (raw, expected) => {
    expect(normalizeHost(raw)).toBe(expected);
  });
});
