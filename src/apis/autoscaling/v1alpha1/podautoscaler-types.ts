// PodAutoscaler: ebb's internal per-Revision scaling object (autoscaling.internal.ebb.dev), the
// counterpart of Knative's autoscaling.internal.knative.dev PodAutoscaler.
import { z } from 'zod';
import { ObjectMeta, statusFields } from '../../meta/v1.ts';

export const GROUP = 'autoscaling.internal.ebb.dev';
export const API_VERSION = `${GROUP}/v1alpha1`;

export const PodAutoscalerSpec = z.strictObject({
  containerConcurrency: z.int().optional(),
  scaleTargetRef: z.strictObject({
    apiVersion: z.string(),
    kind: z.string(),
    name: z.string(),
  }),
  reachability: z.enum(['Reachable', 'Unreachable', '']).optional(),
  protocolType: z.enum(['http1', 'h2c']).optional(),
});
export type PodAutoscalerSpec = z.infer<typeof PodAutoscalerSpec>;

export const PodAutoscalerStatus = z.strictObject({
  ...statusFields,
  serviceName: z.string().optional(),
  metricsServiceName: z.string().optional(),
  desiredScale: z.int().optional(),
  actualScale: z.int().optional(),
});
export type PodAutoscalerStatus = z.infer<typeof PodAutoscalerStatus>;

export const PodAutoscaler = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('PodAutoscaler'),
  metadata: ObjectMeta,
  spec: PodAutoscalerSpec,
  status: PodAutoscalerStatus.optional(),
});
export type PodAutoscaler = z.infer<typeof PodAutoscaler>;
