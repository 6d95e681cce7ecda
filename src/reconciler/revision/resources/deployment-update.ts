// Deciding whether a Revision's existing Deployment must be updated, and building the update.
// The API server fills in defaults (imagePullPolicy, probe timings, maxSurge...) and rewrites
// quantities ("0.5" becomes "500m"), and other controllers may add labels, so "needs update" asks
// whether every field ebb sets is still there with the same meaning, not whether the objects are
// equal. replicas are not compared: after creation the autoscaler owns them.
import type { V1Deployment } from '@kubernetes/client-node';
import { parseQuantity } from '../../../apis/core/quantity.ts';

/** True when a field ebb owns differs: labels, annotations, selector, pod template, progress
 * deadline, strategy or revision history limit. */
export function deploymentNeedsUpdate(existing: V1Deployment, desired: V1Deployment): boolean {
  const have = existing.spec;
  const want = desired.spec;
  return !(
    covers(existing.metadata?.labels, desired.metadata?.labels) &&
    covers(existing.metadata?.annotations, desired.metadata?.annotations) &&
    covers(have?.selector, want?.selector) &&
    covers(have?.template, want?.template) &&
    covers(have?.progressDeadlineSeconds, want?.progressDeadlineSeconds) &&
    covers(have?.strategy, want?.strategy) &&
    covers(have?.revisionHistoryLimit, want?.revisionHistoryLimit)
  );
}

/** The object to PUT: the desired spec with the live replica count, the existing metadata
 * (resourceVersion, uid, owner references) with ebb's labels and annotations laid over it. */
export function mergeDeployment(existing: V1Deployment, desired: V1Deployment): V1Deployment {
  const metadata = structuredClone(existing.metadata ?? {});
  metadata.labels = { ...existing.metadata?.labels, ...desired.metadata?.labels };
  metadata.annotations = { ...existing.metadata?.annotations, ...desired.metadata?.annotations };
  const spec = structuredClone(desired.spec ?? existing.spec);
  if (spec !== undefined) spec.replicas = existing.spec?.replicas ?? spec.replicas;
  return {
    apiVersion: desired.apiVersion ?? existing.apiVersion,
    kind: desired.kind ?? existing.kind,
    metadata,
    spec,
  };
}

/** Maps whose values are Kubernetes quantities (resource requests/limits, pod overhead). */
const QUANTITY_MAPS: ReadonlySet<string> = new Set(['limits', 'requests', 'overhead']);
const QUANTITY_FIELDS: ReadonlySet<string> = new Set(['sizeLimit']);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go's zero values: what the API server drops when it serialises with omitempty. */
function isZero(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.values(value).every(isZero);
  return false;
}

/** True when `have` holds everything `want` sets. Arrays must match element by element, since
 * for containers, env or volumes a missing or extra entry is a real difference. */
function covers(have: unknown, want: unknown, key = ''): boolean {
  if (want === undefined || want === null) return true;
  if (have === undefined || have === null) return isZero(want);
  if (Array.isArray(want)) {
    return (
      Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w, key))
    );
  }
  if (isRecord(want)) {
    if (!isRecord(have)) return false;
    const quantities = QUANTITY_MAPS.has(key);
    return Object.entries(want).every(([k, w]) =>
      quantities ? sameQuantity(have[k], w) : covers(have[k], w, k),
    );
  }
  if (QUANTITY_FIELDS.has(key)) return sameQuantity(have, want);
  return have === want;
}

// ---- quantities ----

/** Equal values however spelt ("0.5" and "500m"); what is not a quantity compares as text. */
function sameQuantity(have: unknown, want: unknown): boolean {
  const a = parseQuantity(have);
  const b = parseQuantity(want);
  if (a === undefined || b === undefined) return have === want;
  const base = Math.min(a.exponent, b.exponent);
  return a.digits * 10n ** BigInt(a.exponent - base) === b.digits * 10n ** BigInt(b.exponent - base);
}
