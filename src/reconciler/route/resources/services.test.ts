// Table tests of the placeholder Services: names per tag, the gateway alias, and the metadata
// carried over from the Route.
import { describe, expect, it } from '@jest/globals';
import { parseNetworkConfig } from '../../../apis/config/network.ts';
import type { Route } from '../../../apis/serving/v1/route-types.ts';
import { makePlaceholderService, makePlaceholderServices, type PlaceholderConfig } from './services.ts';

const config = (network: Record<string, string> = {}): PlaceholderConfig => ({
  network: parseNetworkConfig(network).config,
  clusterDomain: 'cluster.local',
  gatewayService: 'ebb-gateway',
  systemNamespace: 'knative-serving',
});

const route: Route = {
  apiVersion: 'serving.knative.dev/v1',
  kind: 'Route',
  metadata: {
    name: 'hello',
    namespace: 'default',
    uid: 'uid-1',
    labels: {
      'serving.knative.dev/service': 'hello',
      'networking.knative.dev/visibility': 'cluster-local',
      app: 'demo',
    },
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      'serving.knative.dev/creator': 'alice',
    },
  },
  spec: { traffic: [] },
};

describe('makePlaceholderService', () => {
  it('aliases the gateway and carries the Route’s metadata, minus visibility and last-applied', () => {
    expect(makePlaceholderService(route, '', config())).toStrictEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'hello',
        namespace: 'default',
        labels: { app: 'demo', 'serving.knative.dev/route': 'hello', 'serving.knative.dev/service': 'hello' },
        annotations: { 'serving.knative.dev/creator': 'alice' },
        ownerReferences: [
          {
            apiVersion: 'serving.knative.dev/v1',
            kind: 'Route',
            name: 'hello',
            uid: 'uid-1',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        type: 'ExternalName',
        externalName: 'ebb-gateway.knative-serving.svc.cluster.local',
        sessionAffinity: 'None',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }],
      },
    });
  });

  it('leaves annotations out when the Route has none to carry', () => {
    const bare: Route = { ...route, metadata: { name: 'hello', namespace: 'default', uid: 'uid-1' } };
    const svc = makePlaceholderService(bare, '', config());
    expect(svc.metadata?.annotations).toBeUndefined();
    expect(svc.metadata?.labels).toStrictEqual({ 'serving.knative.dev/route': 'hello' });
  });
});

describe('makePlaceholderServices', () => {
  const cases: [string, string[], Record<string, string>, string[]][] = [
    ['no tags: the main host only', [], {}, ['hello']],
    ['tags, deduplicated and sorted by name', ['v2', 'v1', 'v2'], {}, ['hello', 'v1-hello', 'v2-hello']],
    ['a custom tag template', ['v1'], { 'tag-template': '{{.Name}}-{{.Tag}}' }, ['hello', 'hello-v1']],
  ];

  it.each(cases)('%s', (_name, tags, network, names) => {
    const services = makePlaceholderServices(route, tags, config(network));
    expect(services.map((s) => s.metadata?.name)).toEqual(names);
    for (const s of services) {
      expect(s.spec?.externalName).toBe('ebb-gateway.knative-serving.svc.cluster.local');
      expect(s.metadata?.labels?.['serving.knative.dev/route']).toBe('hello');
    }
  });

  it('builds the same objects every time', () => {
    expect(makePlaceholderServices(route, ['a', 'b'], config())).toStrictEqual(
      makePlaceholderServices(route, ['b', 'a'], config()),
    );
  });
});
