// Names of the serving.knative.dev API group, its labels and annotations.

export const GROUP = 'serving.knative.dev';
/** knative.dev/networking's public group, whose labels and annotations serving objects carry. */
export const NETWORKING_GROUP = 'networking.knative.dev';
export const API_VERSION = `${GROUP}/v1`;

export const LABELS = {
  service: `${GROUP}/service`,
  serviceUID: `${GROUP}/serviceUID`,
  configuration: `${GROUP}/configuration`,
  configurationUID: `${GROUP}/configurationUID`,
  configurationGeneration: `${GROUP}/configurationGeneration`,
  revision: `${GROUP}/revision`,
  revisionUID: `${GROUP}/revisionUID`,
  route: `${GROUP}/route`,
  routingState: `${GROUP}/routingState`,
  visibility: `${NETWORKING_GROUP}/visibility`,
} as const;

export const ANNOTATIONS = {
  creator: `${GROUP}/creator`,
  lastModifier: `${GROUP}/lastModifier`,
  noGC: `${GROUP}/no-gc`,
  routes: `${GROUP}/routes`,
  routingStateModified: `${GROUP}/routingStateModified`,
  rolloutDuration: `${GROUP}/rollout-duration`,
  rolloutDurationAlias: `${GROUP}/rolloutDuration`,
  progressDeadline: `${GROUP}/progress-deadline`,
} as const;

export const VISIBILITY_CLUSTER_LOCAL = 'cluster-local';
