// Defaulting of traffic targets: a Service with no traffic sends 100% to its latest revision, and
// each target says whether it follows the latest revision.
import type { TrafficTarget } from './route-types.ts';

export function defaultTraffic(
  traffic: readonly TrafficTarget[] | undefined,
  inService: boolean,
): TrafficTarget[] | undefined {
  if ((traffic === undefined || traffic.length === 0) && inService)
    return [{ latestRevision: true, percent: 100 }];
  return traffic?.map((t) =>
    t.latestRevision === undefined ? { ...t, latestRevision: (t.revisionName ?? '') === '' } : t,
  );
}
