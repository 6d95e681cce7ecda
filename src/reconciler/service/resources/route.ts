// Builds the Route a Service owns. Targets without a revisionName follow the Service's own
// Configuration, so they get its name as configurationName.
import { API_VERSION } from '../../../apis/serving/register.ts';
import type { Route } from '../../../apis/serving/v1/route-types.ts';
import type { Service } from '../../../apis/serving/v1/service-types.ts';
import { controllerRef, sortedMap, withoutLastApplied } from '../../shared/meta.ts';
import { serviceChildLabels } from './configuration.ts';

export function makeRoute(svc: Service): Route {
  const name = svc.metadata.name ?? '';
  const traffic = (svc.spec.traffic ?? [{ latestRevision: true, percent: 100 }]).map((t) =>
    (t.revisionName ?? '') === '' ? { ...t, configurationName: name } : { ...t },
  );
  return {
    apiVersion: API_VERSION,
    kind: 'Route',
    metadata: {
      name,
      namespace: svc.metadata.namespace,
      labels: serviceChildLabels(svc),
      annotations: sortedMap(withoutLastApplied(svc.metadata.annotations)),
      ownerReferences: [controllerRef(svc)],
    },
    spec: { traffic },
  };
}
