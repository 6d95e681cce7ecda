// Route: names a set of Revisions and splits traffic between them by percent and tag.
import { z } from 'zod';
import { Addressable, ObjectMeta, statusFields } from '../../meta/v1.ts';
import { API_VERSION } from '../register.ts';

export const TrafficTarget = z.strictObject({
  tag: z.string().optional().describe('Gives this target its own URL.'),
  revisionName: z.string().optional(),
  configurationName: z.string().optional(),
  latestRevision: z.boolean().optional(),
  percent: z.int().optional(),
  url: z.string().optional().describe('Set by the system for tagged targets; not allowed in spec.'),
});
export type TrafficTarget = z.infer<typeof TrafficTarget>;

export const RouteSpec = z.strictObject({
  traffic: z.array(TrafficTarget).optional(),
});
export type RouteSpec = z.infer<typeof RouteSpec>;

export const routeStatusFields = {
  url: z.string().optional(),
  address: Addressable.optional(),
  traffic: z.array(TrafficTarget).optional(),
};

export const RouteStatus = z.strictObject({ ...statusFields, ...routeStatusFields });
export type RouteStatus = z.infer<typeof RouteStatus>;

export const Route = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Route'),
  metadata: ObjectMeta,
  spec: RouteSpec.prefault({}),
  status: RouteStatus.optional(),
});
export type Route = z.infer<typeof Route>;
