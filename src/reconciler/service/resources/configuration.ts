// Builds the Configuration a Service owns: the Service's template under the Service's name, with
// the Service's labels and annotations propagated as Knative does.
import { ANNOTATIONS, API_VERSION, LABELS } from '../../../apis/serving/register.ts';
import type { Configuration } from '../../../apis/serving/v1/configuration-types.ts';
import type { Service } from '../../../apis/serving/v1/service-types.ts';
import { controllerRef, sortedMap, withoutLastApplied } from '../../shared/meta.ts';

export function serviceChildLabels(svc: Service): Record<string, string> {
  return sortedMap({
    ...(svc.metadata.labels ?? {}),
    [LABELS.service]: svc.metadata.name ?? '',
    [LABELS.serviceUID]: svc.metadata.uid ?? '',
  });
}

/** The Service's annotations minus kubectl's record and the rollout duration (the Route's). */
function configurationAnnotations(svc: Service, existing?: Configuration): Record<string, string> {
  const rollout = new Set<string>([ANNOTATIONS.rolloutDuration, ANNOTATIONS.rolloutDurationAlias]);
  const annotations = Object.fromEntries(
    Object.entries(withoutLastApplied(svc.metadata.annotations)).filter(([k]) => !rollout.has(k)),
  );
  // The Service's Route follows this Configuration; say so now, as the Route's labeler would, so
  // the two do not fight over the annotation.
  const routes = new Set(
    (existing?.metadata.annotations?.[ANNOTATIONS.routes] ?? '').split(',').filter((r) => r !== ''),
  );
  routes.add(svc.metadata.name ?? '');
  annotations[ANNOTATIONS.routes] = [...routes].sort().join(',');
  return sortedMap(annotations);
}

export function makeConfiguration(svc: Service, existing?: Configuration): Configuration {
  return {
    apiVersion: API_VERSION,
    kind: 'Configuration',
    metadata: {
      name: svc.metadata.name,
      namespace: svc.metadata.namespace,
      labels: serviceChildLabels(svc),
      annotations: configurationAnnotations(svc, existing),
      ownerReferences: [controllerRef(svc)],
    },
    spec: { template: structuredClone(svc.spec.template) },
  };
}
