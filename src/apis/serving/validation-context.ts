// What validation and defaulting need to know besides the object itself.
import type { ClusterConfig } from '../config/cluster-config.ts';
import type { ObjectMeta } from '../meta/v1.ts';

export interface ValidationContext {
  readonly config: ClusterConfig;
  /** The Service or Configuration whose template is being checked. */
  readonly parent?: ObjectMeta;
}
