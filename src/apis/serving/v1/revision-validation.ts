// Validation of Revisions and of the Revision templates inside Services and Configurations.
import { validateAutoscalingAnnotations } from '../../autoscaling/annotation-validation.ts';
import {
  disallowedFields,
  generic,
  invalidValue,
  outOfBounds,
  under,
  type FieldError,
} from '../../field-error.ts';
import type { ObjectMeta } from '../../meta/v1.ts';
import { describeChanges, deepEqual } from '../../object-diff.ts';
import { goList, isDNS1035Label, isDNS1035LabelPrefix } from '../../validation/names.ts';
import { validatePodSpec } from '../k8s-validation.ts';
import {
  validateLabelOwner,
  validateNetworkingAnnotations,
  validateObjectName,
  validateProgressDeadlineAnnotation,
  validateQueueSidecarAnnotations,
} from '../metadata-validation.ts';
import { LABELS } from '../register.ts';
import type { ValidationContext } from '../validation-context.ts';
import type { Revision, RevisionSpec, RevisionTemplateSpec } from './revision-types.ts';

export function validateRevisionSpec(spec: RevisionSpec, ctx: ValidationContext): FieldError[] {
  const { defaults, features } = ctx.config;
  const errors = validatePodSpec(spec, features);
  const max = defaults.maxRevisionTimeoutSeconds;
  const timeout = spec.timeoutSeconds;
  if (timeout !== undefined && timeout !== 0 && (timeout < 0 || timeout > max)) {
    errors.push(outOfBounds(timeout, 0, max, 'timeoutSeconds'));
  }
  // responseStartTimeoutSeconds and idleTimeoutSeconds are only defaulted, never bounded, as in
  // Knative's RevisionSpec.Validate: a value of 0 or less sets no timer, and one past
  // timeoutSeconds never fires before it.
  const cc = spec.containerConcurrency;
  if (cc !== undefined) {
    const min = defaults.allowContainerConcurrencyZero ? 0 : 1;
    if (cc < min || cc > defaults.containerConcurrencyMaxLimit) {
      errors.push(outOfBounds(cc, min, defaults.containerConcurrencyMaxLimit, 'containerConcurrency'));
    }
  }
  return errors;
}

/** Bring-your-own revision names must be `<parent>-<suffix>` and valid DNS-1035 labels. */
function validateTemplateName(meta: ObjectMeta | undefined, parent: ObjectMeta): FieldError[] {
  const generateName = meta?.generateName ?? '';
  const name = meta?.name ?? '';
  if (generateName !== '') {
    const problems = isDNS1035LabelPrefix(generateName);
    if (problems.length > 0)
      return [invalidValue(`not a DNS 1035 label prefix: ${goList(problems)}`, 'metadata.generateName')];
  }
  if (name === '') return [];
  const problems = isDNS1035Label(name);
  if (problems.length > 0)
    return [invalidValue(`not a DNS 1035 label: ${goList(problems)}`, 'metadata.name')];
  if ((parent.name ?? '') === '' && (parent.generateName ?? '') !== '')
    return [disallowedFields('metadata.name')];
  const prefix = `${parent.name ?? ''}-`;
  if (!name.startsWith(prefix)) {
    return [
      invalidValue(`${JSON.stringify(name)} must have prefix ${JSON.stringify(prefix)}`, 'metadata.name'),
    ];
  }
  return [];
}

export function validateRevisionTemplate(
  template: RevisionTemplateSpec,
  ctx: ValidationContext,
  parent: ObjectMeta,
): FieldError[] {
  const meta = template.metadata ?? {};
  return [
    ...under('spec', validateRevisionSpec(template.spec ?? {}, ctx)),
    ...under('metadata.annotations', validateAutoscalingAnnotations(meta.annotations, ctx.config.autoscaler)),
    ...under('metadata.annotations', validateNetworkingAnnotations(meta.annotations)),
    ...validateTemplateName(template.metadata, parent),
    ...under('metadata', validateQueueSidecarAnnotations(meta)),
    ...under('metadata', validateProgressDeadlineAnnotation(meta)),
  ];
}

/** On a parent's update, a bring-your-own name must change whenever the template does. */
export function validateTemplateNameChange(
  template: RevisionTemplateSpec,
  old: RevisionTemplateSpec | undefined,
): FieldError[] {
  const name = template.metadata?.name ?? '';
  if (old === undefined || name === '' || name !== (old.metadata?.name ?? '')) return [];
  if (deepEqual(template, old)) return [];
  return [
    generic(
      'Saw the following changes without a name change (-old +new)',
      'metadata.name',
      describeChanges(old, template),
    ),
  ];
}

export function validateRevision(rev: Revision, ctx: ValidationContext, old?: Revision): FieldError[] {
  const errors: FieldError[] = [
    ...under('metadata', validateObjectName(rev.metadata)),
    ...under(
      'metadata.annotations',
      validateAutoscalingAnnotations(rev.metadata.annotations, ctx.config.autoscaler),
    ),
    ...under('metadata', validateLabelOwner(rev.metadata, LABELS.configuration, 'Configuration')),
  ];
  if (old !== undefined) {
    if (!deepEqual(rev.spec, old.spec)) {
      errors.push(
        generic('Immutable fields changed (-old +new)', 'spec', describeChanges(old.spec, rev.spec)),
      );
    }
    return errors;
  }
  return [...errors, ...under('spec', validateRevisionSpec(rev.spec, ctx))];
}
