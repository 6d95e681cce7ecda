// Validation of traffic targets and Routes: percentages, tags, and which revision or configuration
// each target names.
import {
  disallowedFields,
  generic,
  invalidKeyName,
  invalidValue,
  missingOneOf,
  multipleOneOf,
  outOfBounds,
  under,
  type FieldError,
} from '../../field-error.ts';
import { deepEqual } from '../../object-diff.ts';
import { goList, isDNS1035Label, isQualifiedName } from '../../validation/names.ts';
import {
  rejectAutoscalingAnnotations,
  validateLabelOwner,
  validateObjectName,
  validateRolloutDurationAnnotation,
  validateUserInfoUpdate,
} from '../metadata-validation.ts';
import { LABELS } from '../register.ts';
import type { Route, TrafficTarget } from './route-types.ts';

export interface TrafficScope {
  /** Inside a Service the Service's own Configuration is implied and configurationName is forbidden. */
  inService: boolean;
}

function validateTarget(t: TrafficTarget, scope: TrafficScope): FieldError[] {
  const errors: FieldError[] = [];
  const revisionName = t.revisionName ?? '';
  const configurationName = t.configurationName ?? '';
  if (t.latestRevision !== undefined && (revisionName !== '') === t.latestRevision) {
    errors.push(
      generic(
        `may not set revisionName ${JSON.stringify(revisionName)} when latestRevision is ${t.latestRevision}`,
        'latestRevision',
      ),
    );
  }
  if (scope.inService && configurationName !== '') {
    errors.push(disallowedFields('configurationName'));
  } else if (revisionName !== '' && configurationName !== '') {
    errors.push(multipleOneOf('revisionName', 'configurationName'));
  } else if (revisionName !== '') {
    const problems = isQualifiedName(revisionName);
    if (problems.length > 0) errors.push(invalidKeyName(revisionName, 'revisionName', problems.join(', ')));
  } else if (configurationName !== '') {
    const problems = isQualifiedName(configurationName);
    if (problems.length > 0)
      errors.push(invalidKeyName(configurationName, 'configurationName', problems.join(', ')));
  } else if (!scope.inService) {
    errors.push(missingOneOf('revisionName', 'configurationName'));
  }
  if (t.percent !== undefined && (t.percent < 0 || t.percent > 100))
    errors.push(outOfBounds(t.percent, 0, 100, 'percent'));
  if ((t.url ?? '') !== '') errors.push(disallowedFields('url'));
  return errors;
}

/** Paths are relative to the traffic list's parent (`spec`). */
export function validateTraffic(traffic: readonly TrafficTarget[], scope: TrafficScope): FieldError[] {
  const errors: FieldError[] = [];
  const tags = new Map<string, number>();
  let sum = 0;
  traffic.forEach((t, i) => {
    errors.push(...under(`traffic[${i}]`, validateTarget(t, scope)));
    sum += t.percent ?? 0;
    const tag = t.tag ?? '';
    if (tag === '') return;
    const problems = isDNS1035Label(tag);
    if (problems.length > 0)
      errors.push(invalidValue(`not a DNS 1035 label: ${goList(problems)}`, `traffic.tag[${i}]`));
    const first = tags.get(tag);
    if (first !== undefined) {
      errors.push(
        generic(`Multiple definitions for ${JSON.stringify(tag)}`, [
          `traffic[${i}].tag`,
          `traffic[${first}].tag`,
        ]),
      );
    } else {
      tags.set(tag, i);
    }
  });
  if (sum !== 100) {
    errors.push(
      generic(
        `Traffic targets sum to ${sum}, want 100`,
        'traffic',
        'the percent of all traffic targets must add up to exactly 100',
      ),
    );
  }
  return errors;
}

export function validateRoute(route: Route, old?: Route): FieldError[] {
  const meta = route.metadata;
  const errors: FieldError[] = [
    ...under('metadata', validateObjectName(meta)),
    ...under('metadata', rejectAutoscalingAnnotations(meta)),
    ...under('metadata', validateLabelOwner(meta, LABELS.service, 'Service')),
    ...under('metadata', validateRolloutDurationAnnotation(meta)),
    ...under('spec', validateTraffic(route.spec.traffic ?? [], { inService: false })),
  ];
  if (old !== undefined && (meta.ownerReferences ?? []).length === 0) {
    errors.push(
      ...under('metadata', validateUserInfoUpdate(meta, old.metadata, !deepEqual(route.spec, old.spec))),
    );
  }
  return errors;
}
