// Reads a Revision's pods off the EndpointSlices of its private Service: which addresses are
// ready, which are starting (listed but not ready: worth probing), and which are terminating (no
// new requests; in-flight ones finish). Pure: slices in, sets of "ip:port" out.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { LABELS } from '../apis/serving/register.ts';

export interface RevisionEndpoints {
  ready: string[];
  starting: string[];
  terminating: string[];
}

export const EMPTY_ENDPOINTS: RevisionEndpoints = { ready: [], starting: [], terminating: [] };

/** Host and port of an "ip:port" (IPv6 in brackets) as revisionEndpoints writes them. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/** `namespace/revision` of a slice, from the revision label its Service passed on to it. */
export function sliceRevisionKey(slice: V1EndpointSlice): string | undefined {
  const revision = slice.metadata?.labels?.[LABELS.revision];
  const namespace = slice.metadata?.namespace;
  if (revision === undefined || namespace === undefined) return undefined;
  return `${namespace}/${revision}`;
}

/** Merges the slices of one revision (or of any one Service, e.g. the gateway's peers). An address in several slices (during a slice update) counts
 * once, in its best state: ready over starting over terminating. */
export function revisionEndpoints(slices: Iterable<V1EndpointSlice>): RevisionEndpoints {
  const state = new Map<string, 0 | 1 | 2>(); // 0 terminating, 1 starting, 2 ready
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = slice.ports?.find((p) => p.port !== undefined)?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const c = ep.conditions ?? {};
      const s: 0 | 1 | 2 = c.terminating === true ? 0 : c.ready === false ? 1 : 2;
      for (const ip of ep.addresses) {
        const address = slice.addressType === 'IPv6' ? `[${ip}]:${port}` : `${ip}:${port}`;
        state.set(address, Math.max(state.get(address) ?? 0, s) as 0 | 1 | 2);
      }
    }
  }
  const out: RevisionEndpoints = { ready: [], starting: [], terminating: [] };
  for (const [address, s] of state)
    (s === 2 ? out.ready : s === 1 ? out.starting : out.terminating).push(address);
  for (const list of [out.ready, out.starting, out.terminating]) list.sort();
  return out;
}
