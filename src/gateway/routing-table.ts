// The gateway's host lookup, built from Routes the way Knative's route reconciler programs an
// ingress: which host on which listener names which Route, and the traffic split (or tagged target)
// a request there may go to. Immutable once built; the caller rebuilds it when a Route changes.
import { LABELS, VISIBILITY_CLUSTER_LOCAL } from '../apis/serving/register.ts';
import type { Route } from '../apis/serving/v1/route-types.ts';

/** 'external' serves public hosts only; 'internal' serves public and cluster-local hosts. */
export type Listener = 'external' | 'internal';

export interface RouteRef {
  readonly namespace: string;
  readonly name: string;
}

/** One revision a request may be sent to, with its share of the route's traffic. */
export interface SplitTarget {
  readonly revisionName: string;
  /** 1..100; targets at 0 % never appear here. */
  readonly percent: number;
  readonly tag?: string;
}

export type RouteMatch =
  | {
      readonly ready: true;
      readonly route: RouteRef;
      /** Non-empty; pick one with pickTarget. A tag selection has one target at 100 %. */
      readonly targets: readonly SplitTarget[];
      /** The tag that selected the target, through its host or the Knative-Serving-Tag header. */
      readonly tag?: string;
    }
  | { readonly ready: false; readonly route: RouteRef; readonly reason: string };

export interface RouteRequest {
  /** The Host header as received; normalized here. */
  host: string;
  listener: Listener;
  /** The Knative-Serving-Tag header, if any. */
  tagHeader?: string | undefined;
  /** config-features tag-header-based-routing is Enabled. */
  tagHeaderRouting?: boolean;
}

export interface RoutingTableOptions {
  clusterDomain: string;
  /**
   * A tag's host name for its cluster-local names when its URL is public, so it cannot be read off
   * the URL. Pass config-network's tag-template (renderTagName); defaults to Knative's `<tag>-<name>`.
   */
  tagHostname?: (routeName: string, tag: string) => string;
}

/** Lowercase, without port or trailing dot: the form hosts are stored and looked up in. */
export function normalizeHost(raw: string): string {
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end !== -1) host = host.slice(0, end + 1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** What one host resolves to: a fixed match, or the main split with per-tag header matches. */
interface HostEntry {
  readonly match: RouteMatch;
  /** Only on a route's main hosts: tag -> that tag's target, for Knative-Serving-Tag. */
  readonly byTag?: ReadonlyMap<string, RouteMatch>;
}

export class RoutingTable {
  readonly #external: ReadonlyMap<string, HostEntry>;
  readonly #internal: ReadonlyMap<string, HostEntry>;
  /** Hosts claimed twice or unusable URLs, each with the route and field path, for logging. */
  readonly warnings: readonly string[];

  private constructor(
    external: ReadonlyMap<string, HostEntry>,
    internal: ReadonlyMap<string, HostEntry>,
    warnings: readonly string[],
  ) {
    this.#external = external;
    this.#internal = internal;
    this.warnings = warnings;
  }

  /**
   * Routes are taken in namespace/name order; when two claim the same host the first keeps it
   * (Knative prevents this with domain claims; the table must still be deterministic).
   */
  static build(routes: Iterable<Route>, options: RoutingTableOptions): RoutingTable {
    const builder = new TableBuilder(options);
    const sorted = [...routes].sort((a, b) => compare(routeKey(a), routeKey(b)));
    for (const route of sorted) builder.add(route);
    return new RoutingTable(builder.external, builder.internal, Object.freeze(builder.warnings));
  }

  /** The route a request names, or undefined when no route serves its host on this listener. */
  lookup(request: RouteRequest): RouteMatch | undefined {
    const hosts = request.listener === 'external' ? this.#external : this.#internal;
    const entry = hosts.get(normalizeHost(request.host));
    if (entry === undefined) return undefined;
    if (request.tagHeaderRouting === true && entry.byTag !== undefined && request.tagHeader) {
      // An unknown tag falls through to the main split, as Knative's header-matched ingress paths do.
      return entry.byTag.get(request.tagHeader) ?? entry.match;
    }
    return entry.match;
  }

  /** Every host served on a listener, sorted; for diagnostics and tests. */
  hosts(listener: Listener): string[] {
    return [...(listener === 'external' ? this.#external : this.#internal).keys()].sort(compare);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function routeKey(route: Route): string {
  return `${route.metadata.namespace ?? ''}/${route.metadata.name ?? ''}`;
}

class TableBuilder {
  readonly external = new Map<string, HostEntry>();
  readonly internal = new Map<string, HostEntry>();
  readonly warnings: string[] = [];
  readonly #clusterDomain: string;
  readonly #tagHostname: (routeName: string, tag: string) => string;

  constructor(options: RoutingTableOptions) {
    this.#clusterDomain = normalizeHost(options.clusterDomain);
    this.#tagHostname = options.tagHostname ?? ((name, tag) => `${tag}-${name}`);
  }

  add(route: Route): void {
    const ref: RouteRef = Object.freeze({
      namespace: route.metadata.namespace ?? '',
      name: route.metadata.name ?? '',
    });
    const where = `${ref.namespace}/${ref.name}`;
    const localSuffix = `.${ref.namespace}.svc.${this.#clusterDomain}`;
    const status = route.status ?? {};
    const traffic = status.traffic ?? [];

    const urlHost = this.#host(status.url, `${where}: status.url`);
    const clusterLocal =
      route.metadata.labels?.[LABELS.visibility] === VISIBILITY_CLUSTER_LOCAL ||
      (urlHost?.endsWith(localSuffix) ?? false);

    // The main hosts: every target with a share, and the tags for header routing.
    const split: SplitTarget[] = [];
    const tagged: { tag: string; target: SplitTarget; urlHost: string | undefined }[] = [];
    traffic.forEach((t, i) => {
      if (t.revisionName === undefined || t.revisionName === '') return;
      const percent = t.percent ?? 0;
      const tag = t.tag !== undefined && t.tag !== '' ? t.tag : undefined;
      if (percent > 0) split.push(freezeTarget(t.revisionName, percent, tag));
      if (tag !== undefined) {
        const host = this.#host(t.url, `${where}: status.traffic[${i}].url`);
        tagged.push({ tag, target: freezeTarget(t.revisionName, 100, tag), urlHost: host });
      }
    });

    const main: RouteMatch =
      split.length > 0
        ? Object.freeze({ ready: true, route: ref, targets: Object.freeze(split) })
        : Object.freeze({
            ready: false,
            route: ref,
            reason:
              traffic.length === 0
                ? `route ${where} has no traffic assigned yet`
                : `route ${where} has no traffic target with percent > 0`,
          });
    const byTag = new Map<string, RouteMatch>();
    for (const { tag, target } of tagged) {
      byTag.set(tag, Object.freeze({ ready: true, route: ref, targets: Object.freeze([target]), tag }));
    }
    const mainEntry: HostEntry = Object.freeze({ match: main, byTag });

    const local = (hostname: string): string[] => [
      `${hostname}.${ref.namespace}`,
      `${hostname}.${ref.namespace}.svc`,
      `${hostname}${localSuffix}`,
    ];
    const addressHost = this.#host(status.address?.url, `${where}: status.address.url`);
    for (const host of local(normalizeHost(ref.name))) this.#claim(host, false, mainEntry, where);
    if (addressHost !== undefined) this.#claim(addressHost, false, mainEntry, where);
    if (urlHost !== undefined) this.#claim(urlHost, !clusterLocal, mainEntry, where);

    for (const { tag, urlHost: tagUrlHost } of tagged) {
      const match = byTag.get(tag);
      if (match === undefined) continue;
      const entry: HostEntry = Object.freeze({ match });
      const tagLocal = clusterLocal || (tagUrlHost?.endsWith(localSuffix) ?? false);
      const hostname =
        tagUrlHost?.endsWith(localSuffix) === true
          ? tagUrlHost.slice(0, -localSuffix.length)
          : normalizeHost(this.#tagHostname(ref.name, tag));
      for (const host of local(hostname)) this.#claim(host, false, entry, where);
      if (tagUrlHost !== undefined) this.#claim(tagUrlHost, !tagLocal, entry, where);
    }
  }

  #host(url: string | undefined, path: string): string | undefined {
    if (url === undefined || url === '') return undefined;
    try {
      const host = normalizeHost(new URL(url).host);
      if (host !== '') return host;
    } catch {
      // Reported below.
    }
    this.warnings.push(`${path}: not a URL with a host: ${JSON.stringify(url)}`);
    return undefined;
  }

  /** Public hosts go on both listeners, cluster-local ones on the internal listener only. */
  #claim(host: string, external: boolean, entry: HostEntry, where: string): void {
    const owner = this.internal.get(host);
    if (owner !== undefined) {
      const by = `${owner.match.route.namespace}/${owner.match.route.name}`;
      if (by !== where) this.warnings.push(`${where}: host ${host} is already served by route ${by}`);
      else if (external && !this.external.has(host)) this.external.set(host, owner);
      return;
    }
    this.internal.set(host, entry);
    if (external) this.external.set(host, entry);
  }
}

function freezeTarget(revisionName: string, percent: number, tag: string | undefined): SplitTarget {
  return Object.freeze(tag === undefined ? { revisionName, percent } : { revisionName, percent, tag });
}
