// What a parent owns on a child it created, for the custom kinds: the spec, the labels and the
// annotations. Everything else on the stored child (status, resourceVersion, fields others set)
// is kept when the parent brings it back in line.
import { deepEqual } from '../../apis/object-diff.ts';
import { asStored } from '../status.ts';

interface Child {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: unknown;
}

/** True when `existing` differs from `desired` in what the parent owns. */
export function childNeedsUpdate(existing: Child, desired: Child): boolean {
  return (
    !deepEqual(existing.spec, asStored(desired.spec)) ||
    !deepEqual(existing.metadata.labels ?? {}, desired.metadata.labels ?? {}) ||
    !deepEqual(existing.metadata.annotations ?? {}, desired.metadata.annotations ?? {})
  );
}

/** `existing` with the parent's spec, labels and annotations, ready to replace it. */
export function withOwnedFields<T extends Child>(existing: T, desired: Child): T {
  return {
    ...existing,
    metadata: {
      ...existing.metadata,
      labels: desired.metadata.labels,
      annotations: desired.metadata.annotations,
    },
    spec: desired.spec,
  };
}
