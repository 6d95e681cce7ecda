// The request headers the gateway sends to a pod: the client's headers plus X-Forwarded-* and
// RFC 7239 Forwarded, minus the headers that only steer ebb and Knative routing. Hop-by-hop headers
// are left to the proxy library. Pure: a new record, the input untouched.

/** Header names lowercase, as node:http delivers them. */
export type HeaderRecord = Record<string, string | string[] | undefined>;

export interface ForwardContext {
  /** The peer address of the client connection; undefined when unknown. */
  clientIP: string | undefined;
  /** The scheme the client used to reach the gateway. */
  proto: 'http' | 'https';
  /**
   * Keep X-Forwarded-Proto and X-Forwarded-Host already on the request, because a trusted load
   * balancer in front of the gateway set them (e.g. after terminating TLS). Default false: set them
   * from what the gateway saw.
   */
  trustForwarded?: boolean;
}

/** Headers that steer routing inside ebb and Knative; the app never sees them. */
export const INTERNAL_HEADERS: ReadonlySet<string> = new Set([
  'knative-serving-tag',
  'knative-serving-revision',
  'knative-serving-namespace',
  'k-network-probe',
]);

export function isInternalHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return INTERNAL_HEADERS.has(lower) || lower.startsWith('x-ebb-');
}

function joined(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const s = Array.isArray(value) ? value.join(', ') : value;
  return s.trim() === '' ? undefined : s;
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) as `10.0.0.1`. */
export function plainIP(ip: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An RFC 7239 value: a token as is, anything else as a quoted-string. */
function forwardedValue(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** The `for=` node: IPv6 in brackets (and so quoted), `unknown` when there is no address. */
function forwardedFor(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  return forwardedValue(ip.includes(':') ? `[${ip}]` : ip);
}

function append(existing: string | undefined, value: string): string {
  return existing === undefined ? value : `${existing}, ${value}`;
}

/** `incoming` without the fields that steer routing inside ebb and Knative. */
export function withoutInternalHeaders(incoming: Readonly<HeaderRecord>): HeaderRecord {
  const out: HeaderRecord = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || isInternalHeader(name)) continue;
    out[name.toLowerCase()] = value;
  }
  return out;
}

/** The client's address as the forwarding fields name it; undefined when unknown. */
export function clientAddress(clientIP: string | undefined): string | undefined {
  return clientIP === undefined || clientIP === '' ? undefined : plainIP(clientIP);
}

/** X-Forwarded-For after this hop: what earlier hops wrote (undefined: none), the client appended. */
export function forwardedForAfter(prior: string | undefined, ip: string | undefined): string | undefined {
  return ip === undefined ? prior : append(prior, ip);
}

/** Forwarded after this hop (RFC 7239): the earlier hops' elements, this hop's appended. */
export function forwardedAfter(
  prior: string | undefined,
  ip: string | undefined,
  host: string | undefined,
  proto: string,
): string {
  return append(prior, forwardedElement(ip, host, proto));
}

/**
 * The request fields for the pod on the node:http path; the fast path writes the same four
 * forwarding fields with the functions above (http1-head.ts, upstreamRequestHead).
 */
export function forwardHeaders(incoming: Readonly<HeaderRecord>, ctx: ForwardContext): HeaderRecord {
  const out = withoutInternalHeaders(incoming);
  const ip = clientAddress(ctx.clientIP);
  const host = joined(out.host ?? out[':authority']);

  const xff = forwardedForAfter(joined(out['x-forwarded-for']), ip);
  if (xff !== undefined) out['x-forwarded-for'] = xff;
  const keep = ctx.trustForwarded === true;
  if (!keep || joined(out['x-forwarded-proto']) === undefined) out['x-forwarded-proto'] = ctx.proto;
  if (!keep || joined(out['x-forwarded-host']) === undefined) {
    if (host !== undefined) out['x-forwarded-host'] = host;
    else delete out['x-forwarded-host'];
  }

  out.forwarded = forwardedAfter(joined(out.forwarded), ip, host, ctx.proto);
  return out;
}

/** This hop's RFC 7239 element: `for=…;host=…;proto=…`. */
export function forwardedElement(ip: string | undefined, host: string | undefined, proto: string): string {
  let element = `for=${forwardedFor(ip)}`;
  if (host !== undefined) element += `;host=${forwardedValue(host)}`;
  return `${element};proto=${proto}`;
}
