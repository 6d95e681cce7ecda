// Table tests of a Route's hosts and URLs: config-domain selection, custom templates, the external
// scheme, and cluster-local routes and tags falling back to the default template.
import { describe, expect, it } from '@jest/globals';
import { parseDomainConfig } from '../../../apis/config/domain.ts';
import { parseNetworkConfig } from '../../../apis/config/network.ts';
import { hostError, routeURLs, type RouteURLConfig, type TargetHosts } from './domains.ts';

function config(
  domain: Record<string, string>,
  network: Record<string, string> = {},
  clusterDomain = 'cluster.local',
): RouteURLConfig {
  return {
    network: parseNetworkConfig(network).config,
    domain: parseDomainConfig(domain, clusterDomain).config,
    clusterDomain,
  };
}

const route = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({
  metadata: { name: 'r', namespace: 'ns', labels, annotations },
});

const local = (h: string, cd = 'cluster.local'): string[] => [`${h}.ns`, `${h}.ns.svc`, `${h}.ns.svc.${cd}`];

interface Expected {
  url: string;
  address: string;
  tagURL: string;
  hosts: TargetHosts;
  tagHosts: TargetHosts;
}

describe('routeURLs', () => {
  const exampleCom = { 'example.com': '' };
  const cases: [string, ReturnType<typeof route>, RouteURLConfig, Set<string> | undefined, Expected][] = [
    [
      'a public route on the default domain',
      route(),
      config(exampleCom),
      undefined,
      {
        url: 'http://r.ns.example.com',
        address: 'http://r.ns.svc.cluster.local',
        tagURL: 'http://v2-r.ns.example.com',
        hosts: { clusterLocal: local('r'), external: ['r.ns.example.com'] },
        tagHosts: { clusterLocal: local('v2-r'), external: ['v2-r.ns.example.com'] },
      },
    ],
    [
      'a route labelled cluster-local',
      route({ 'networking.knative.dev/visibility': 'cluster-local' }),
      config(exampleCom),
      undefined,
      {
        url: 'http://r.ns.svc.cluster.local',
        address: 'http://r.ns.svc.cluster.local',
        tagURL: 'http://v2-r.ns.svc.cluster.local',
        hosts: { clusterLocal: local('r'), external: [] },
        tagHosts: { clusterLocal: local('v2-r'), external: [] },
      },
    ],
    [
      'no domain configured: every route is cluster-local',
      route(),
      config({}),
      undefined,
      {
        url: 'http://r.ns.svc.cluster.local',
        address: 'http://r.ns.svc.cluster.local',
        tagURL: 'http://v2-r.ns.svc.cluster.local',
        hosts: { clusterLocal: local('r'), external: [] },
        tagHosts: { clusterLocal: local('v2-r'), external: [] },
      },
    ],
    [
      'a domain chosen by label selector',
      route({ app: 'prod' }),
      config({ 'example.com': '', 'prod.example.com': 'selector:\n  app: prod' }),
      undefined,
      {
        url: 'http://r.ns.prod.example.com',
        address: 'http://r.ns.svc.cluster.local',
        tagURL: 'http://v2-r.ns.prod.example.com',
        hosts: { clusterLocal: local('r'), external: ['r.ns.prod.example.com'] },
        tagHosts: { clusterLocal: local('v2-r'), external: ['v2-r.ns.prod.example.com'] },
      },
    ],
    [
      'custom templates and the https scheme',
      route(),
      config(exampleCom, {
        'domain-template': '{{.Name}}-{{.Namespace}}.{{.Domain}}',
        'tag-template': '{{.Name}}-{{.Tag}}',
        'default-external-scheme': 'https',
      }),
      undefined,
      {
        url: 'https://r-ns.example.com',
        address: 'http://r.ns.svc.cluster.local',
        tagURL: 'https://r-v2-ns.example.com',
        hosts: { clusterLocal: local('r'), external: ['r-ns.example.com'] },
        tagHosts: { clusterLocal: local('r-v2'), external: ['r-v2-ns.example.com'] },
      },
    ],
    [
      'a cluster-local route ignores the custom domain template and scheme (not the tag template)',
      route({ 'networking.knative.dev/visibility': 'cluster-local' }),
      config(exampleCom, {
        'domain-template': '{{.Name}}-{{.Namespace}}.{{.Domain}}',
        'tag-template': '{{.Name}}-{{.Tag}}',
        'default-external-scheme': 'https',
      }),
      undefined,
      {
        url: 'http://r.ns.svc.cluster.local',
        address: 'http://r.ns.svc.cluster.local',
        tagURL: 'http://r-v2.ns.svc.cluster.local',
        hosts: { clusterLocal: local('r'), external: [] },
        tagHosts: { clusterLocal: local('r-v2'), external: [] },
      },
    ],
    [
      'a template reading labels, which never sees the visibility label',
      route({ team: 'blue' }),
      config(exampleCom, { 'domain-template': '{{.Name}}.{{index .Labels "team"}}.{{.Domain}}' }),
      undefined,
      {
        url: 'http://r.blue.example.com',
        address: 'http://r.ns.svc.cluster.local',
        tagURL: 'http://v2-r.blue.example.com',
        hosts: { clusterLocal: local('r'), external: ['r.blue.example.com'] },
        tagHosts: { clusterLocal: local('v2-r'), external: ['v2-r.blue.example.com'] },
      },
    ],
    [
      'a public route with one private tag',
      route(),
      config(exampleCom),
      new Set(['v2']),
      {
        url: 'http://r.ns.example.com',
        address: 'http://r.ns.svc.cluster.local',
        tagURL: 'http://v2-r.ns.svc.cluster.local',
        hosts: { clusterLocal: local('r'), external: ['r.ns.example.com'] },
        tagHosts: { clusterLocal: local('v2-r'), external: [] },
      },
    ],
    [
      'another cluster domain',
      route(),
      config({}, {}, 'corp.internal'),
      undefined,
      {
        url: 'http://r.ns.svc.corp.internal',
        address: 'http://r.ns.svc.corp.internal',
        tagURL: 'http://v2-r.ns.svc.corp.internal',
        hosts: { clusterLocal: local('r', 'corp.internal'), external: [] },
        tagHosts: { clusterLocal: local('v2-r', 'corp.internal'), external: [] },
      },
    ],
  ];

  it.each(cases)('%s', (_name, r, cfg, privateTags, expected) => {
    const urls = routeURLs(r, cfg, privateTags);
    expect({
      url: urls.url,
      address: urls.address,
      tagURL: urls.tagURL('v2'),
      hosts: urls.hosts(''),
      tagHosts: urls.hosts('v2'),
    }).toStrictEqual(expected);
    expect(urls.host).toBe(new URL(expected.url).host);
    expect(urls.tagHost('v2')).toBe(new URL(expected.tagURL).host);
    expect(urls.clusterLocal).toBe(expected.hosts.external.length === 0);
  });
});

describe('hostError', () => {
  const cases: [string, string | undefined][] = [
    ['r.ns.example.com', undefined],
    ['v2-r.ns.svc.cluster.local', undefined],
    [
      'localhost',
      'invalid domain name "localhost": should be a domain with at least two segments separated by dots',
    ],
    [
      'r..example.com',
      `invalid domain name "r..example.com": label "" must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
    ],
    [
      'R.ns.example.com',
      `invalid domain name "R.ns.example.com": label "R" must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
    ],
    [
      `${'a'.repeat(64)}.com`,
      `invalid domain name "${'a'.repeat(64)}.com": label "${'a'.repeat(64)}" must be no more than 63 characters`,
    ],
    [
      `${'a.'.repeat(127)}com`,
      `invalid domain name "${'a.'.repeat(127)}com": must be no more than 253 characters`,
    ],
  ];

  it.each(cases)('%s', (host, expected) => {
    expect(hostError(host)).toBe(expected);
  });
});
