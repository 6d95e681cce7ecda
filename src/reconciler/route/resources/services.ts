// Builds a Route's placeholder Kubernetes Services, after Knative's route/resources/service.go:
// one per host (the route, and each tag) so `<name>.<ns>.svc` resolves inside the cluster. ebb has
// no Ingress load balancer to read, so each is an ExternalName alias of the gateway's Service.
import type { V1Service } from '@kubernetes/client-node';
import type { NetworkConfig } from '../../../apis/config/network.ts';
import { LABELS } from '../../../apis/serving/register.ts';
import type { Route } from '../../../apis/serving/v1/route-types.ts';
import { controllerRef, sortedMap, withoutLastApplied } from '../../shared/meta.ts';
import { targetHostname } from './domains.ts';

export interface PlaceholderConfig {
  network: NetworkConfig;
  clusterDomain: string;
  /** The gateway's Kubernetes Service, which every placeholder aliases. */
  gatewayService: string;
  /** Where the gateway runs (knative-serving, or ebb's own system namespace). */
  systemNamespace: string;
}

/**
 * The placeholder for one target: `tag` '' is the route's main host. Labels are the Route's
 * without the visibility label (users put that on a tag's Service to make only the tag private)
 * plus serving.knative.dev/route, which is how orphans are found.
 */
export function makePlaceholderService(route: Route, tag: string, config: PlaceholderConfig): V1Service {
  const routeName = route.metadata.name ?? '';
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(route.metadata.labels ?? {}))
    if (k !== LABELS.visibility) labels[k] = v;
  labels[LABELS.route] = routeName;
  const annotations = withoutLastApplied(route.metadata.annotations);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: targetHostname(config.network, routeName, tag),
      namespace: route.metadata.namespace,
      labels: sortedMap(labels),
      ...(Object.keys(annotations).length > 0 ? { annotations: sortedMap(annotations) } : {}),
      ownerReferences: [controllerRef(route)],
    },
    spec: {
      type: 'ExternalName',
      externalName: `${config.gatewayService}.${config.systemNamespace}.svc.${config.clusterDomain}`,
      sessionAffinity: 'None',
      // What the API server would default, so a read-back compares equal.
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }],
    },
  };
}

/** The main host's placeholder and one per tag, sorted by name, duplicates dropped. */
export function makePlaceholderServices(
  route: Route,
  tags: Iterable<string>,
  config: PlaceholderConfig,
): V1Service[] {
  const all = new Set<string>(['', ...tags]);
  return [...all]
    .map((tag) => makePlaceholderService(route, tag, config))
    .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
}
