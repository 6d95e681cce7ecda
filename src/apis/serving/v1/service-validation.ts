// Validation of Services: metadata, the Revision template and the inline traffic block.
import { under, type FieldError } from '../../field-error.ts';
import { deepEqual } from '../../object-diff.ts';
import {
  rejectAutoscalingAnnotations,
  validateObjectName,
  validateRolloutDurationAnnotation,
  validateUserInfoUpdate,
} from '../metadata-validation.ts';
import type { ValidationContext } from '../validation-context.ts';
import { validateRevisionTemplate, validateTemplateNameChange } from './revision-validation.ts';
import { validateTraffic } from './route-validation.ts';
import type { Service } from './service-types.ts';

export function validateService(svc: Service, ctx: ValidationContext, old?: Service): FieldError[] {
  const meta = svc.metadata;
  const errors: FieldError[] = [
    ...under('metadata', validateObjectName(meta)),
    ...under('metadata', rejectAutoscalingAnnotations(meta)),
    ...under('metadata', validateRolloutDurationAnnotation(meta)),
    ...under('spec.template', validateRevisionTemplate(svc.spec.template, ctx, meta)),
    ...under('spec', validateTraffic(svc.spec.traffic ?? [], { inService: true })),
  ];
  if (old !== undefined) {
    errors.push(
      ...under('metadata', validateUserInfoUpdate(meta, old.metadata, !deepEqual(svc.spec, old.spec))),
    );
    errors.push(...under('spec.template', validateTemplateNameChange(svc.spec.template, old.spec.template)));
  }
  return errors;
}
