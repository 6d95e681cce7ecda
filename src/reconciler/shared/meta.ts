// Metadata conventions every builder shares: controller owner references and the maps Knative
// copies from parent to child.
import type { ObjectMeta, OwnerReference } from '../../apis/meta/v1.ts';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface OwnerObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** The owner reference a controller puts on what it creates, so deletion cascades. */
export function controllerRef(owner: OwnerObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** True when `obj` names `owner` as its controller. */
export function isControlledBy(
  obj: { metadata?: { ownerReferences?: readonly { uid: string; controller?: boolean }[] } },
  owner: OwnerObject,
): boolean {
  return (obj.metadata?.ownerReferences ?? []).some(
    (r) => r.controller === true && r.uid === owner.metadata.uid,
  );
}

/** A copy of `annotations` without kubectl's last-applied record, which must not propagate. */
export function withoutLastApplied(
  annotations: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {})) if (k !== LAST_APPLIED) out[k] = v;
  return out;
}

/** Sorted copy, so builders are deterministic and equality checks are stable. */
export function sortedMap(map: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
