// A Route's host names and URLs, after Knative's pkg/reconciler/route/domains and the host rules
// of route/resources/ingress.go: config-domain picks the domain, config-network's templates shape
// the host, and a cluster-local route (or tag) gets `<host>.<ns>.svc.<cluster-domain>` from the
// default template whatever the configured one says.
import { renderDomain, renderTagName, type NetworkConfig } from '../../../apis/config/network.ts';
import { domainForLabels, type DomainConfig } from '../../../apis/config/domain.ts';
import type { ObjectMeta } from '../../../apis/meta/v1.ts';
import { LABELS, VISIBILITY_CLUSTER_LOCAL } from '../../../apis/serving/register.ts';

export interface RouteURLConfig {
  network: NetworkConfig;
  domain: DomainConfig;
  clusterDomain: string;
}

/** The hosts one target (the route's main host, or a tag's) answers on, per visibility. */
export interface TargetHosts {
  /** `h.ns`, `h.ns.svc`, `h.ns.svc.<cluster-domain>`: every target answers inside the cluster. */
  clusterLocal: string[];
  /** The public host; empty when the target is cluster-local. */
  external: string[];
}

export interface RouteURLs {
  /** The route's main host is only reachable inside the cluster. */
  clusterLocal: boolean;
  /** status.url's host. */
  host: string;
  /** status.url. */
  url: string;
  /** status.address.url: the placeholder Service's cluster DNS name. */
  address: string;
  /** The host of a tag's URL. */
  tagHost(tag: string): string;
  /** status.traffic[].url for a tag. */
  tagURL(tag: string): string;
  /** What the gateway serves for a target; '' is the main host. */
  hosts(tag: string): TargetHosts;
}

/** The Kubernetes Service name (and first host label) for a target: the route, or the tag's name. */
export function targetHostname(network: NetworkConfig, routeName: string, tag: string): string {
  return tag === '' ? routeName : renderTagName(network, routeName, tag);
}

function withoutVisibility(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k !== LABELS.visibility) out[k] = v;
  return out;
}

/**
 * Host names and URLs for a Route. `clusterLocalTags` names tags made private on their own (in
 * Knative, by the visibility label on the tag's placeholder Service); a private route makes every
 * tag private.
 */
export function routeURLs(
  route: { metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'labels' | 'annotations'> },
  config: RouteURLConfig,
  clusterLocalTags: ReadonlySet<string> = new Set(),
): RouteURLs {
  const name = route.metadata.name ?? '';
  const namespace = route.metadata.namespace ?? '';
  const labels = route.metadata.labels ?? {};
  const localSuffix = `svc.${config.clusterDomain}`;
  const clusterLocal =
    labels[LABELS.visibility] === VISIBILITY_CLUSTER_LOCAL ||
    domainForLabels(config.domain, labels) === localSuffix;
  const publicLabels = withoutVisibility(labels);
  const publicDomain = domainForLabels(config.domain, publicLabels);

  const isLocal = (tag: string): boolean => clusterLocal || (tag !== '' && clusterLocalTags.has(tag));
  // Cluster-local hosts always follow the default template, {{.Name}}.{{.Namespace}}.{{.Domain}}.
  const localHost = (hostname: string): string => `${hostname}.${namespace}.${localSuffix}`;
  const publicHost = (hostname: string): string =>
    renderDomain(config.network, {
      name: hostname,
      namespace,
      domain: publicDomain,
      annotations: route.metadata.annotations ?? {},
      labels: publicLabels,
    });
  const hostFor = (tag: string): string => {
    const hostname = targetHostname(config.network, name, tag);
    return isLocal(tag) ? localHost(hostname) : publicHost(hostname);
  };
  const urlFor = (tag: string): string =>
    `${isLocal(tag) ? 'http' : config.network.defaultExternalScheme}://${hostFor(tag)}`;

  return {
    clusterLocal,
    host: hostFor(''),
    url: urlFor(''),
    address: `http://${name}.${namespace}.${localSuffix}`,
    tagHost: hostFor,
    tagURL: urlFor,
    hosts(tag: string): TargetHosts {
      const hostname = targetHostname(config.network, name, tag);
      return {
        clusterLocal: [`${hostname}.${namespace}`, `${hostname}.${namespace}.svc`, localHost(hostname)],
        external: isLocal(tag) ? [] : [publicHost(hostname)],
      };
    },
  };
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Why a rendered host is not a usable domain name, or undefined when it is. A domain-template
 * using annotations or labels can render anything; Knative then marks the Route's
 * AllTrafficAssigned False (reason ErrorConfig) instead of programming traffic.
 */
export function hostError(host: string): string | undefined {
  const problem = ((): string | undefined => {
    if (host.length > 253) return 'must be no more than 253 characters';
    const labels = host.split('.');
    if (labels.length < 2) return 'should be a domain with at least two segments separated by dots';
    for (const label of labels) {
      if (label.length > 63) return `label ${JSON.stringify(label)} must be no more than 63 characters`;
      if (!DNS1123_LABEL.test(label)) {
        return `label ${JSON.stringify(label)} must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`;
      }
    }
    return undefined;
  })();
  return problem === undefined ? undefined : `invalid domain name ${JSON.stringify(host)}: ${problem}`;
}
