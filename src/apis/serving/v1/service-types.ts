// Service: the top-level kind users write; it owns one Configuration and one Route of its name.
import { z } from 'zod';
import { ObjectMeta, statusFields } from '../../meta/v1.ts';
import { API_VERSION } from '../register.ts';
import { configurationStatusFields } from './configuration-types.ts';
import { RevisionTemplateSpec } from './revision-types.ts';
import { TrafficTarget, routeStatusFields } from './route-types.ts';

export const ServiceSpec = z.strictObject({
  template: RevisionTemplateSpec.prefault({}),
  traffic: z.array(TrafficTarget).optional(),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

export const ServiceStatus = z.strictObject({
  ...statusFields,
  ...configurationStatusFields,
  ...routeStatusFields,
});
export type ServiceStatus = z.infer<typeof ServiceStatus>;

export const Service = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Service'),
  metadata: ObjectMeta,
  spec: ServiceSpec.prefault({}),
  status: ServiceStatus.optional(),
});
export type Service = z.infer<typeof Service>;
