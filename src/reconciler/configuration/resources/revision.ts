// Builds the Revision a Configuration stamps out for its current generation: the template's
// metadata and spec, named `<config>-<generation, five digits>` unless the user named it, with the
// labels that tie it to its Configuration and Service.
import { ANNOTATIONS, API_VERSION, LABELS } from '../../../apis/serving/register.ts';
import type { Configuration } from '../../../apis/serving/v1/configuration-types.ts';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';
import { childName } from '../../revision/resources/names.ts';
import { controllerRef, sortedMap } from '../../shared/meta.ts';

export const ROUTING_STATE_PENDING = 'pending';
export const ROUTING_STATE_ACTIVE = 'active';

/** The name of the Revision for the Configuration's current generation. */
export function revisionName(config: Configuration): string {
  const byo = config.spec.template.metadata?.name ?? '';
  if (byo !== '') return byo;
  return childName(
    config.metadata.name ?? '',
    `-${String(config.metadata.generation ?? 0).padStart(5, '0')}`,
  );
}

/** The labels a Revision of this Configuration carries; Knative re-applies them on every reconcile. */
export function revisionLabels(config: Configuration): Record<string, string> {
  const labels = config.metadata.labels ?? {};
  return {
    [LABELS.configuration]: config.metadata.name ?? '',
    [LABELS.configurationGeneration]: String(config.metadata.generation ?? 0),
    [LABELS.configurationUID]: config.metadata.uid ?? '',
    [LABELS.service]: labels[LABELS.service] ?? '',
    [LABELS.serviceUID]: labels[LABELS.serviceUID] ?? '',
  };
}

/** `now` stamps routingStateModified; a Revision is created once, so this never churns. */
export function makeRevision(config: Configuration, now: Date): Revision {
  const template = config.spec.template;
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
  const modifier = config.metadata.annotations?.[ANNOTATIONS.lastModifier];
  if (modifier !== undefined) annotations[ANNOTATIONS.creator] = modifier;
  annotations[ANNOTATIONS.routingStateModified] = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  // A Configuration already routed hands its routes to the new Revision, which starts active so it
  // is scaled and routable as soon as it is ready.
  const routes = config.metadata.annotations?.[ANNOTATIONS.routes];
  if (routes !== undefined && routes !== '') annotations[ANNOTATIONS.routes] = routes;
  return {
    apiVersion: API_VERSION,
    kind: 'Revision',
    metadata: {
      name: revisionName(config),
      namespace: config.metadata.namespace,
      labels: sortedMap({
        ...(template.metadata?.labels ?? {}),
        ...revisionLabels(config),
        [LABELS.routingState]:
          routes !== undefined && routes !== '' ? ROUTING_STATE_ACTIVE : ROUTING_STATE_PENDING,
      }),
      annotations: sortedMap(annotations),
      ownerReferences: [controllerRef(config)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}
