// "Write status only when it changed", with observedGeneration, for every reconciler: the status a
// reconcile computes is compared with the stored one, and only a difference costs an API call.
import { deepEqual } from '../apis/object-diff.ts';
import type { ObjectMeta } from '../apis/meta/v1.ts';
import { isNotFound, type CustomKind, type CustomResources } from '../controller/kube.ts';

/** Drops undefined fields, as a JSON round trip through the API server would. */
export function asStored(value: unknown): unknown {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

export function statusChanged(stored: unknown, computed: unknown): boolean {
  return !deepEqual(asStored(stored) ?? {}, asStored(computed) ?? {});
}

export async function writeStatus<S extends object>(
  custom: CustomResources,
  kind: CustomKind,
  obj: { metadata: ObjectMeta; status?: S },
  status: S,
): Promise<boolean> {
  const next = { ...status, observedGeneration: obj.metadata.generation };
  if (!statusChanged(obj.status, next)) return false;
  try {
    await custom.replaceStatus(kind, { ...obj, status: next });
  } catch (error) {
    // Deleted since the cache saw it: nothing left to report on.
    if (isNotFound(error)) return false;
    throw error;
  }
  return true;
}
