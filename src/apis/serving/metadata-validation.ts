// Checks on object metadata shared by the serving kinds: names, annotations Knative reads
// (rollout duration, progress deadline, queue sidecar resources) and where autoscaling
// annotations may go. Paths are relative to `metadata`.
import { AUTOSCALING_PREFIX } from '../autoscaling/register.ts';
import { isWholeSeconds, parseGoDuration } from '../config/go-duration.ts';
import { generic, invalidKeyName, invalidValue, missingField, type FieldError } from '../field-error.ts';
import type { ObjectMeta } from '../meta/v1.ts';
import { goList, isDNS1035Label, isDNS1035LabelPrefix } from '../validation/names.ts';
import { ANNOTATIONS, LABELS, VISIBILITY_CLUSTER_LOCAL } from './register.ts';

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

const QUEUE_PREFIX = 'queue.sidecar.serving.knative.dev';
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)(([KMGTPE]i)|[munkMGTPE]|[eE][+-]?\d+)?$/;

/** ebb has no queue-proxy, but Knative manifests carry these annotations: keep them well-formed. */
export function validateQueueSidecarAnnotations(meta: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    if (!key.startsWith(`${QUEUE_PREFIX}/`)) continue;
    const name = key.slice(QUEUE_PREFIX.length + 1);
    if (name === 'resource-percentage' || name === 'resourcePercentage') {
      const v = Number(value);
      if (!Number.isFinite(v)) errors.push(invalidValue(value, `annotations.[${key}]`));
      else if (v < 0.1 || v > 100)
        errors.push(generic(`expected 0.1 <= ${v} <= 100`, `annotations.[${key}]`));
    } else if (
      /^(cpu|memory|ephemeral-storage)-resource-(request|limit)$/.test(name) &&
      !QUANTITY.test(value)
    ) {
      errors.push(
        invalidValue(value, `annotations.[${key}]`, 'use a Kubernetes quantity such as "100m" or "128Mi"'),
      );
    }
  }
  return errors;
}

/** networking.knative.dev/visibility may only say "cluster-local". */
export function validateVisibilityLabel(meta: ObjectMeta): FieldError[] {
  const value = meta.labels?.[LABELS.visibility];
  if (value === undefined || value === VISIBILITY_CLUSTER_LOCAL) return [];
  return [
    invalidValue(
      value,
      `labels.${LABELS.visibility}`,
      `the only supported value is "${VISIBILITY_CLUSTER_LOCAL}"`,
    ),
  ];
}

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
