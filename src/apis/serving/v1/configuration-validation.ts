// Validation of Configurations: metadata and the Revision template.
import { under, type FieldError } from '../../field-error.ts';
import { deepEqual } from '../../object-diff.ts';
import {
  rejectAutoscalingAnnotations,
  validateLabelOwner,
  validateObjectName,
  validateUserInfoUpdate,
} from '../metadata-validation.ts';
import { LABELS } from '../register.ts';
import type { ValidationContext } from '../validation-context.ts';
import type { Configuration } from './configuration-types.ts';
import { validateRevisionTemplate, validateTemplateNameChange } from './revision-validation.ts';

export function validateConfiguration(
  cfg: Configuration,
  ctx: ValidationContext,
  old?: Configuration,
): FieldError[] {
  const meta = cfg.metadata;
  const errors: FieldError[] = [
    ...under('metadata', validateObjectName(meta)),
    ...under('metadata', rejectAutoscalingAnnotations(meta)),
    ...under('metadata', validateLabelOwner(meta, LABELS.service, 'Service')),
    ...under('spec.template', validateRevisionTemplate(cfg.spec.template, ctx, meta)),
  ];
  if (old !== undefined) {
    if ((meta.ownerReferences ?? []).length === 0) {
      errors.push(
        ...under('metadata', validateUserInfoUpdate(meta, old.metadata, !deepEqual(cfg.spec, old.spec))),
      );
    }
    errors.push(...under('spec.template', validateTemplateNameChange(cfg.spec.template, old.spec.template)));
  }
  return errors;
}
