// The labels, annotations and selector that a Revision's Deployment, pods and PodAutoscaler carry
// (Knative's resources/meta.go). Bookkeeping that changes while a Revision lives (routing state,
// pins, GC) is left out so that it never rolls the pods.
import { AUTOSCALING_PREFIX } from '../../../apis/autoscaling/register.ts';
import { ANNOTATIONS, LABELS } from '../../../apis/serving/register.ts';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';
import { LAST_APPLIED, sortedMap } from '../../shared/meta.ts';
import { servingContainer } from './serving-container.ts';

export const APP_LABEL = 'app';
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';
const LAST_PINNED_ANNOTATION = 'serving.knative.dev/lastPinned';

const EXCLUDED_LABELS: ReadonlySet<string> = new Set([LABELS.route, LABELS.routingState]);
const EXCLUDED_ANNOTATIONS: ReadonlySet<string> = new Set([
  LAST_PINNED_ANNOTATION,
  ANNOTATIONS.noGC,
  ANNOTATIONS.routingStateModified,
  ANNOTATIONS.routes,
  LAST_APPLIED,
]);

function filtered(map: Readonly<Record<string, string>> | undefined, drop: (key: string) => boolean) {
  return Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => !drop(k)));
}

const excluded = (key: string) => EXCLUDED_ANNOTATIONS.has(key);
/** Autoscaling annotations may be edited on a live Revision; the pods must not roll for that. */
const excludedOrAutoscaling = (key: string) => excluded(key) || key.startsWith(AUTOSCALING_PREFIX);

/** The Revision's labels plus revision, revisionUID and (unless the user set one) app. */
export function revisionChildLabels(rev: Revision): Record<string, string> {
  const labels: Record<string, string> = {
    ...filtered(rev.metadata.labels, (k) => EXCLUDED_LABELS.has(k)),
    [LABELS.revision]: rev.metadata.name ?? '',
    [LABELS.revisionUID]: rev.metadata.uid ?? '',
  };
  labels[APP_LABEL] ??= rev.metadata.name ?? '';
  return sortedMap(labels);
}

export function deploymentAnnotations(rev: Revision): Record<string, string> {
  return sortedMap(filtered(rev.metadata.annotations, excludedOrAutoscaling));
}

/** As the Deployment's, plus the container `kubectl logs` and `exec` pick by default. */
export function podAnnotations(rev: Revision): Record<string, string> {
  const annotations = filtered(rev.metadata.annotations, excludedOrAutoscaling);
  const name = servingContainer(rev.spec)?.name ?? '';
  if (name !== '') annotations[DEFAULT_CONTAINER_ANNOTATION] = name;
  return sortedMap(annotations);
}

/** The autoscaler reads its knobs from these, so autoscaling annotations stay. */
export function podAutoscalerAnnotations(rev: Revision): Record<string, string> {
  return sortedMap(filtered(rev.metadata.annotations, excluded));
}

/** Pods are selected by the Revision's UID, which no other Revision can share. */
export function revisionSelector(rev: Revision): { matchLabels: Record<string, string> } {
  return { matchLabels: { [LABELS.revisionUID]: rev.metadata.uid ?? '' } };
}
