// Configuration: the desired state of a workload; each template change stamps out a Revision.
import { z } from 'zod';
import { ObjectMeta, statusFields } from '../../meta/v1.ts';
import { API_VERSION } from '../register.ts';
import { RevisionTemplateSpec } from './revision-types.ts';

export const ConfigurationSpec = z.strictObject({
  template: RevisionTemplateSpec.prefault({}),
});
export type ConfigurationSpec = z.infer<typeof ConfigurationSpec>;

export const configurationStatusFields = {
  latestCreatedRevisionName: z.string().optional(),
  latestReadyRevisionName: z.string().optional(),
};

export const ConfigurationStatus = z.strictObject({ ...statusFields, ...configurationStatusFields });
export type ConfigurationStatus = z.infer<typeof ConfigurationStatus>;

export const Configuration = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Configuration'),
  metadata: ObjectMeta,
  spec: ConfigurationSpec.prefault({}),
  status: ConfigurationStatus.optional(),
});
export type Configuration = z.infer<typeof Configuration>;
