// Kubernetes object metadata and Knative's status duck types (conditions), shared by every kind.
import { z } from 'zod';

const stringMap = z.record(z.string(), z.string());

export const OwnerReference = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.infer<typeof OwnerReference>;

/** Root object metadata. The API server owns its schema, so the CRD only says "object". */
export const ObjectMeta = z
  .looseObject({
    name: z.string().optional(),
    generateName: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.int().optional(),
    creationTimestamp: z.string().nullable().optional(),
    deletionTimestamp: z.string().nullable().optional(),
    labels: stringMap.optional(),
    annotations: stringMap.optional(),
    ownerReferences: z.array(OwnerReference).optional(),
    finalizers: z.array(z.string()).optional(),
  })
  .meta({ openapi: { type: 'object' } });
export type ObjectMeta = z.infer<typeof ObjectMeta>;

/** Metadata embedded in a template (a Revision's), where the CRD must keep labels and annotations. */
export const TemplateMeta = ObjectMeta.meta({
  openapi: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      generateName: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
    },
    'x-kubernetes-preserve-unknown-fields': true,
  },
});

export const ConditionStatus = z.enum(['True', 'False', 'Unknown']);
export type ConditionStatus = z.infer<typeof ConditionStatus>;

export const Condition = z.strictObject({
  type: z.string(),
  status: ConditionStatus,
  severity: z.enum(['', 'Error', 'Warning', 'Info']).optional(),
  lastTransitionTime: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type Condition = z.infer<typeof Condition>;

/** knative.dev/pkg duckv1.Status: the fields every Knative status carries. */
export const statusFields = {
  observedGeneration: z.int().optional(),
  conditions: z.array(Condition).optional(),
  annotations: stringMap.optional(),
};

export const Addressable = z.strictObject({
  name: z.string().optional(),
  url: z.string().optional(),
  CACerts: z.string().optional(),
  audience: z.string().optional(),
});
export type Addressable = z.infer<typeof Addressable>;
