// Checks on object metadata shared by the serving kinds: names, annotations Knative reads
// (rollout duration, progress deadline, queue sidecar resources) and where autoscaling
// annotations may go. Paths are relative to `metadata`.
import { AUTOSCALING_PREFIX } from '../autoscaling/register.ts';
import { isWholeSeconds, parseGoDuration } from '../config/go-duration.ts';
import { formatGoFloat, parseGoFloat } from '../config/go-float.ts';
import {
  asWarning,
  generic,
  invalidKeyName,
  invalidValue,
  missingField,
  outOfBounds,
  type FieldError,
} from '../field-error.ts';
import type { ObjectMeta } from '../meta/v1.ts';
import { goList, isDNS1035Label, isDNS1035LabelPrefix } from '../validation/names.ts';
import { ANNOTATIONS, GROUP, NETWORKING_GROUP } from './register.ts';

/** knative.dev/pkg's ValidateObjectMetadata: the first problem with the name only. */
export function validateObjectName(meta: ObjectMeta): FieldError[] {
  const generateName = meta.generateName ?? '';
  const name = meta.name ?? '';
  if (generateName !== '') {
    const problems = isDNS1035LabelPrefix(generateName);
    if (problems.length > 0)
      return [generic(`not a DNS 1035 label prefix: ${goList(problems)}`, 'generateName')];
  }
  if (name !== '') {
    const problems = isDNS1035Label(name);
    if (problems.length > 0) return [generic(`not a DNS 1035 label: ${goList(problems)}`, 'name')];
  }
  if (name === '' && generateName === '') {
    return [generic('name or generateName is required', 'name', 'set metadata.name')];
  }
  return [];
}

/** On a Service, Configuration or Route, autoscaling annotations do nothing: say where they go. */
export function rejectAutoscalingAnnotations(meta: ObjectMeta): FieldError[] {
  return Object.keys(meta.annotations ?? {})
    .filter((k) => k.startsWith(AUTOSCALING_PREFIX))
    .sort()
    .map((k) =>
      invalidKeyName(
        k,
        'annotations',
        'autoscaling annotations must be put under "spec.template.metadata.annotations" to work',
      ),
    );
}

/** A duration annotation that must be a non-negative whole number of seconds. */
function validateSecondsAnnotation(meta: ObjectMeta, keys: readonly string[], label: string): FieldError[] {
  const annotations = meta.annotations ?? {};
  const key = keys.find((k) => annotations[k] !== undefined);
  if (key === undefined) return [];
  const value = annotations[key] ?? '';
  if (value === '') return [];
  const path = `annotations.${key}`;
  const ms = parseGoDuration(value);
  if (ms === undefined) return [invalidValue(value, path, 'use a duration such as "120s" or "5m"')];
  if (!isWholeSeconds(ms)) return [generic(`${label}=${value} is not at second precision`, path)];
  if (ms < 0) return [generic(`${label}=${value} must be positive`, path)];
  return [];
}

export function validateRolloutDurationAnnotation(meta: ObjectMeta): FieldError[] {
  return validateSecondsAnnotation(
    meta,
    [ANNOTATIONS.rolloutDuration, ANNOTATIONS.rolloutDurationAlias],
    'rollout-duration',
  );
}

export function validateProgressDeadlineAnnotation(meta: ObjectMeta): FieldError[] {
  return validateSecondsAnnotation(meta, [ANNOTATIONS.progressDeadline], 'progress-deadline');
}

const QUEUE_PREFIX = `queue.sidecar.${GROUP}`;
const QUEUE_PERCENTAGE_KEYS = [`${QUEUE_PREFIX}/resource-percentage`, `${QUEUE_PREFIX}/resourcePercentage`];
const QUEUE_RESOURCE_KEYS = [
  'cpu-resource-request',
  'cpu-resource-limit',
  'memory-resource-request',
  'memory-resource-limit',
  'ephemeral-storage-resource-request',
  'ephemeral-storage-resource-limit',
].map((name) => `${QUEUE_PREFIX}/${name}`);
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)(([KMGTPE]i)|[munkMGTPE]|[eE][+-]?\d+)?$/;

/**
 * ebb has no queue-proxy, but Knative manifests carry these annotations: keep them well-formed,
 * as Knative does. The paths are Knative's (`annotations.[key]`: its FieldError splits a key's
 * dots off the brackets).
 */
export function validateQueueSidecarAnnotations(meta: ObjectMeta): FieldError[] {
  const annotations = meta.annotations ?? {};
  const errors: FieldError[] = [];
  const percentageKey = QUEUE_PERCENTAGE_KEYS.find((k) => annotations[k] !== undefined);
  if (percentageKey !== undefined) {
    const value = annotations[percentageKey] ?? '';
    errors.push(
      asWarning(
        generic(
          'Queue proxy resource percentage annotation is deprecated. Please use the available annotations to explicitly set resource values per service',
          [],
        ),
      ),
    );
    const v = parseGoFloat(value);
    if (v === undefined) errors.push(invalidValue(value, `annotations.[${percentageKey}]`));
    else if (v < 0.1 || v > 100)
      errors.push(outOfBounds(formatGoFloat(v), 0.1, 100, `annotations.[${percentageKey}]`));
  }
  for (const key of QUEUE_RESOURCE_KEYS) {
    const value = annotations[key];
    if (value !== undefined && !QUANTITY.test(value)) {
      errors.push(
        invalidValue(value, `annotations.[${key}]`, 'use a Kubernetes quantity such as "100m" or "128Mi"'),
      );
    }
  }
  return errors;
}

/** The networking.knative.dev annotations a Revision template may carry (knative.dev/networking's
 * ValidateAnnotations); any other key with that prefix is rejected. */
const NETWORKING_ANNOTATIONS: ReadonlySet<string> = new Set(
  [
    'ingress.class',
    'certificate.class',
    'disableAutoTLS',
    'disable-external-domain-tls',
    'httpOption',
    'ingress-class',
    'certificate-class',
    'disable-auto-tls',
    'http-protocol',
  ].map((name) => `${NETWORKING_GROUP}/${name}`),
);

/** Paths are relative to the annotations. */
export function validateNetworkingAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
): FieldError[] {
  return Object.keys(annotations ?? {})
    .filter((k) => k.startsWith(NETWORKING_GROUP) && !NETWORKING_ANNOTATIONS.has(k))
    .sort()
    .map((k) => invalidKeyName(k, ''));
}

// networking.knative.dev/visibility has no check: as in Knative, "cluster-local" makes a Route
// cluster-local and any other value leaves it public.

/** A label that names a parent must be backed by an owner reference of that kind and name. */
export function validateLabelOwner(meta: ObjectMeta, label: string, kind: string): FieldError[] {
  const value = meta.labels?.[label];
  if (value === undefined) return [];
  const owned = (meta.ownerReferences ?? []).some((ref) => ref.kind === kind && ref.name === value);
  return owned ? [] : [missingField(`labels.${label}`)];
}

/** On update: the creator annotation never changes; lastModifier only changes with the spec. */
export function validateUserInfoUpdate(
  meta: ObjectMeta,
  old: ObjectMeta,
  specChanged: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  const creator = ANNOTATIONS.creator;
  const modifier = ANNOTATIONS.lastModifier;
  if (old.annotations?.[creator] !== meta.annotations?.[creator]) {
    errors.push(generic('annotation value is immutable', `annotations.${creator}`));
  }
  if (!specChanged && old.annotations?.[modifier] !== meta.annotations?.[modifier]) {
    errors.push(invalidValue(meta.annotations?.[modifier] ?? '', `annotations.${modifier}`));
  }
  return errors;
}
