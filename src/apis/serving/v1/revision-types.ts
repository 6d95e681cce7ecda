// Revision: an immutable snapshot of code and configuration (serving.knative.dev/v1).
import { z } from 'zod';
import { Container, PodSpec } from '../../core/v1.ts';
import { ObjectMeta, TemplateMeta, statusFields } from '../../meta/v1.ts';
import { API_VERSION } from '../register.ts';

export const RevisionSpec = z.strictObject({
  ...PodSpec,
  containerConcurrency: z
    .int()
    .optional()
    .describe('Maximum number of requests in flight per container; 0 means no limit.'),
  timeoutSeconds: z.int().optional().describe('Maximum duration of a request, in seconds.'),
  responseStartTimeoutSeconds: z
    .int()
    .optional()
    .describe('Maximum time, in seconds, until the first byte of the response.'),
  idleTimeoutSeconds: z
    .int()
    .optional()
    .describe('Maximum time, in seconds, a request may stay open without bytes moving.'),
});
export type RevisionSpec = z.infer<typeof RevisionSpec>;

export const RevisionTemplateSpec = z.strictObject({
  metadata: TemplateMeta.optional(),
  spec: RevisionSpec.optional(),
});
export type RevisionTemplateSpec = z.infer<typeof RevisionTemplateSpec>;

export const ContainerStatus = z.strictObject({
  name: z.string().optional(),
  imageDigest: z.string().optional(),
});

export type ContainerStatus = z.infer<typeof ContainerStatus>;

export const RevisionStatus = z.strictObject({
  ...statusFields,
  logUrl: z.string().optional(),
  containerStatuses: z.array(ContainerStatus).optional(),
  initContainerStatuses: z.array(ContainerStatus).optional(),
  actualReplicas: z.int().optional(),
  desiredReplicas: z.int().optional(),
});
export type RevisionStatus = z.infer<typeof RevisionStatus>;

export const Revision = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Revision'),
  metadata: ObjectMeta,
  spec: RevisionSpec.prefault({}),
  status: RevisionStatus.optional(),
});
export type Revision = z.infer<typeof Revision>;

export type { Container };
