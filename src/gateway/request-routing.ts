// Which revision a request goes to: its Host (and Knative-Serving-Tag, when tag-header routing is
// on) → the Route serving that host on this listener → one revision by the traffic split → that
// revision's backend. Or why none: 404 for a host no Route serves, 503 while the Route or revision
// is not ready, 400 for a request without exactly one Host. Both request paths route here.
import type { RevisionBackend } from './revision-backend.ts';
import type { Listener, RoutingTable } from './routing-table.ts';
import { pickTarget } from './traffic-pick.ts';

export interface RoutingDeps {
  table: () => RoutingTable;
  tagHeaderRouting: () => boolean;
  /** The revision's backend, created on first use; undefined when the revision is unknown. */
  backend: (namespace: string, revision: string) => RevisionBackend | undefined;
}

/** A revision picked for a request. */
export interface Routed {
  namespace: string;
  revision: string;
  backend: RevisionBackend;
}

/** Why the gateway answers a request itself before any pod sees it. */
export interface Refusal {
  code: number;
  /** The `reason` label of ebb_gateway_refused_requests_total. */
  reason: 'bad_request' | 'unknown_host' | 'not_ready';
  why: string;
}

export type RouteResult = ({ ok: true } & Routed) | ({ ok: false } & Refusal);

export function routeRequest(
  deps: RoutingDeps,
  listener: Listener,
  host: string,
  tagHeader: string | undefined,
): RouteResult {
  const match = deps.table().lookup({ host, listener, tagHeader, tagHeaderRouting: deps.tagHeaderRouting() });
  if (match === undefined) {
    return {
      ok: false,
      code: 404,
      reason: 'unknown_host',
      why: `no Route serves host ${JSON.stringify(host)}`,
    };
  }
  const route = `${match.route.namespace}/${match.route.name}`;
  if (!match.ready)
    return { ok: false, code: 503, reason: 'not_ready', why: `Route ${route}: ${match.reason}` };
  const target = pickTarget(match.targets);
  if (target === undefined) {
    return { ok: false, code: 503, reason: 'not_ready', why: `Route ${route} has no traffic target` };
  }
  const backend = deps.backend(match.route.namespace, target.revisionName);
  if (backend === undefined) {
    return {
      ok: false,
      code: 503,
      reason: 'not_ready',
      why: `Route ${route}: revision ${target.revisionName} is not known to the gateway yet; retry shortly`,
    };
  }
  return routedTo(backend, match.route.namespace, target.revisionName);
}

/** One result per revision, made once: routing a request allocates nothing. */
const routedResults = new WeakMap<RevisionBackend, RouteResult>();

/** The result that routes a request to `backend`, the revision `namespace/revision`. */
export function routedTo(backend: RevisionBackend, namespace: string, revision: string): RouteResult {
  let result = routedResults.get(backend);
  if (result === undefined) {
    result = { ok: true, namespace, revision, backend };
    routedResults.set(backend, result);
  }
  return result;
}

/**
 * The request's Host from node:http's raw header list, or a refusal: RFC 9112 §3.2 has a server
 * answer 400 to a request with more than one Host field (node:http would keep the first) or, in
 * HTTP/1.1, none.
 */
export function singleHost(rawHeaders: readonly string[]): string | Refusal {
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== 'host') continue;
    if (host !== undefined) {
      return { code: 400, reason: 'bad_request', why: 'the request has more than one Host header field' };
    }
    host = rawHeaders[i + 1] ?? '';
  }
  if (host === undefined)
    return { code: 400, reason: 'bad_request', why: 'the request has no Host header field' };
  return host;
}
