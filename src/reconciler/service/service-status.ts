// The Service's status, computed from its Configuration and Route (Knative's service reconciler):
// ConfigurationsReady and RoutesReady mirror the children once they have observed their latest
// spec, and RoutesReady stays Unknown (TrafficNotMigrated) until the Route's traffic points where
// the Service asks.
import type { Configuration } from '../../apis/serving/v1/configuration-types.ts';
import type { Route, TrafficTarget } from '../../apis/serving/v1/route-types.ts';
import {
  CONFIGURATIONS_READY,
  ROUTES_READY,
  SERVICE_CONDITIONS,
  markConfigurationNotOwned,
  markConfigurationNotReconciled,
  markRevisionNameTaken,
  markRouteNotOwned,
  markRouteNotReconciled,
  markRouteNotYetReady,
  propagateReady,
} from '../../apis/serving/v1/service-lifecycle.ts';
import type { Service, ServiceStatus } from '../../apis/serving/v1/service-types.ts';

export interface ServiceChildren {
  configuration?: Configuration;
  route?: Route;
  configurationNotOwned?: boolean;
  routeNotOwned?: boolean;
  /** A bring-your-own revision name already used by a Revision this Service did not create. */
  revisionNameTaken?: string;
}

function sameTraffic(want: readonly TrafficTarget[], got: readonly TrafficTarget[]): boolean {
  if (want.length !== got.length) return false;
  const key = (t: TrafficTarget) => JSON.stringify([t.tag ?? '', t.revisionName ?? '', t.percent ?? 0]);
  return want.every((t, i) => key(t) === key(got[i] ?? {}));
}

export function serviceStatus(svc: Service, children: ServiceChildren, now: Date): ServiceStatus {
  const old = svc.status ?? {};
  const m = SERVICE_CONDITIONS.manage(old.conditions, now);
  m.initialize();
  // What the children reported before stays until they report again (e.g. while not owned).
  const status: ServiceStatus = {};
  for (const k of [
    'latestCreatedRevisionName',
    'latestReadyRevisionName',
    'url',
    'address',
    'traffic',
  ] as const)
    if (old[k] !== undefined) Object.assign(status, { [k]: old[k] });
  const name = svc.metadata.name ?? '';
  const { configuration: cfg, route } = children;

  if (children.configurationNotOwned === true) markConfigurationNotOwned(m, name);
  else if (cfg !== undefined) {
    if (cfg.metadata.generation !== cfg.status?.observedGeneration) markConfigurationNotReconciled(m);
    else propagateReady(m, CONFIGURATIONS_READY, cfg.status?.conditions);
    if (cfg.status?.latestCreatedRevisionName !== undefined)
      status.latestCreatedRevisionName = cfg.status.latestCreatedRevisionName;
    if (cfg.status?.latestReadyRevisionName !== undefined)
      status.latestReadyRevisionName = cfg.status.latestReadyRevisionName;
  }

  if (children.routeNotOwned === true) markRouteNotOwned(m, name);
  else if (children.revisionNameTaken !== undefined) markRevisionNameTaken(m, children.revisionNameTaken);
  else if (route !== undefined) {
    if (route.metadata.generation !== route.status?.observedGeneration) markRouteNotReconciled(m);
    else propagateReady(m, ROUTES_READY, route.status?.conditions);
    if (route.status?.url !== undefined) status.url = route.status.url;
    if (route.status?.address !== undefined) status.address = route.status.address;
    if (route.status?.traffic !== undefined) status.traffic = route.status.traffic;
    if (m.status(ROUTES_READY) === 'True' && cfg !== undefined) {
      // The Route is ready, but is it serving what the Service asks for?
      const want = route.spec.traffic?.map((t) =>
        t.configurationName === cfg.metadata.name
          ? { ...t, revisionName: cfg.status?.latestReadyRevisionName, configurationName: undefined }
          : t,
      );
      if (!sameTraffic(want ?? [], route.status?.traffic ?? [])) markRouteNotYetReady(m);
    }
  }
  status.conditions = m.conditions();
  return status;
}
