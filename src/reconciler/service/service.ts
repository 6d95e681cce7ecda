// Service reconciler: keeps the Configuration and Route of the Service's name in line with its
// spec, and rolls their statuses up into the Service's.
import type { Configuration } from '../../apis/serving/v1/configuration-types.ts';
import { defaultConfiguration, defaultService } from '../../apis/serving/v1/defaults.ts';
import type { Route } from '../../apis/serving/v1/route-types.ts';
import type { Service } from '../../apis/serving/v1/service-types.ts';
import {
  CONFIGURATIONS,
  ROUTES,
  SERVING_SERVICES,
  apiMessage,
  isConflict,
  isNamespaceTerminating,
} from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import { revisionName } from '../configuration/resources/revision.ts';
import type { ReconcilerContext } from '../context.ts';
import { childNeedsUpdate, withOwnedFields } from '../shared/child.ts';
import { isControlledBy } from '../shared/meta.ts';
import { RecentlyCreated } from '../shared/recently-created.ts';
import { makeConfiguration } from './resources/configuration.ts';
import { makeRoute } from './resources/route.ts';
import { readyStatus } from '../status.ts';
import { serviceStatus, type ServiceChildren } from './service-status.ts';

export class ServiceReconciler {
  private readonly ctx: ReconcilerContext;
  private readonly created = {
    configurations: new RecentlyCreated<Configuration>(),
    routes: new RecentlyCreated<Route>(),
  };

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.ctx.world.services.get(key);
    if (cached === undefined || cached.metadata.deletionTimestamp != null) return undefined;
    const svc = this.ctx.status.fresh(SERVING_SERVICES, cached);
    const children: ServiceChildren = {};
    let created = false;

    const now = this.ctx.now().getTime();
    const recentCfgs = this.created.configurations;
    const existingCfg = recentCfgs.resolve(key, this.ctx.world.configurations.get(key), now);
    // As Knative's reconcileConfiguration: both sides are compared with today's defaults applied,
    // so a template stored before a default existed (or in another JSON shape of the same values)
    // is not mistaken for a new one, which would mint a Revision.
    const config = { config: this.ctx.config() };
    const desiredCfg = makeConfiguration(defaultService(svc, config), existingCfg);
    const cfg = await this.ensure(
      svc,
      CONFIGURATIONS,
      existingCfg,
      desiredCfg,
      existingCfg === undefined ? undefined : defaultConfiguration(existingCfg, config),
    );
    if (existingCfg === undefined && cfg !== 'not-owned') recentCfgs.remember(key, cfg, now);
    created ||= existingCfg === undefined && cfg !== 'not-owned';
    if (cfg === 'not-owned') children.configurationNotOwned = true;
    else children.configuration = cfg;

    // With a bring-your-own revision name, the Route may only name the new Revision once the
    // Configuration has created it; until then the Route keeps its old traffic.
    const byo = svc.spec.template.metadata?.name ?? '';
    let holdRoute = false;
    if (byo !== '' && cfg !== 'not-owned') {
      const observed = cfg.metadata.generation === cfg.status?.observedGeneration;
      if (!observed || cfg.status?.latestCreatedRevisionName !== byo) holdRoute = true;
      const rev = this.ctx.world.revisions.get(`${svc.metadata.namespace ?? ''}/${byo}`);
      if (rev !== undefined && !isControlledBy(rev, cfg)) children.revisionNameTaken = byo;
      else if (revisionName(cfg) !== byo) holdRoute = true;
    }

    const existingRoute = this.created.routes.resolve(key, this.ctx.world.routes.get(key), now);
    const route =
      holdRoute && existingRoute !== undefined
        ? existingRoute
        : await this.ensure(svc, ROUTES, existingRoute, makeRoute(svc));
    if (existingRoute === undefined && route !== 'not-owned') this.created.routes.remember(key, route, now);
    if (route === 'not-owned') children.routeNotOwned = true;
    else children.route = route;
    created ||= existingRoute === undefined && route !== 'not-owned';

    // A new Service's children, just created, have nothing to report yet, and their ADDED events
    // bring it back within the coalescing delay: the status written then says all this one would.
    if (created && svc.status?.observedGeneration !== svc.metadata.generation) return undefined;
    const status = serviceStatus(svc, children, this.ctx.now());
    const { retryAfterMs } = await this.ctx.status.write(SERVING_SERVICES, svc, status, {
      progressOnly: readyStatus(status.conditions) === 'Unknown',
    });
    return retryAfterMs === undefined ? undefined : { requeueAfterMs: retryAfterMs };
  }

  private async ensure<T extends Configuration | Route>(
    svc: Service,
    kind: typeof CONFIGURATIONS,
    existing: T | undefined,
    desired: T,
    compared: T | undefined = existing,
  ): Promise<T | 'not-owned'> {
    const log = this.ctx.log.child({
      kind: 'Service',
      namespace: svc.metadata.namespace,
      name: svc.metadata.name,
    });
    if (existing === undefined) {
      try {
        const created = await this.ctx.custom.create(kind, desired);
        log.info({ child: kind.kind }, `created ${kind.kind}`);
        this.ctx.events.event(
          svc,
          'Normal',
          'Created',
          `Created ${kind.kind} ${JSON.stringify(desired.metadata.name)}`,
        );
        return created;
      } catch (error) {
        if (isNamespaceTerminating(error)) throw error;
        if (!isConflict(error)) {
          this.ctx.events.event(
            svc,
            'Warning',
            'CreationFailed',
            `Failed to create ${kind.kind} ${JSON.stringify(desired.metadata.name)}: ${apiMessage(error)}`,
          );
          throw error;
        }
        // Created meanwhile (by us before a restart, or by someone else): look at it next time.
        return await this.ctx.custom.get<T>(kind, svc.metadata.namespace ?? '', desired.metadata.name ?? '');
      }
    }
    if (!isControlledBy(existing, svc)) return 'not-owned';
    if (!childNeedsUpdate(compared ?? existing, desired)) return existing;
    const updated = await this.ctx.custom.replace(kind, withOwnedFields(existing, desired));
    log.info({ child: kind.kind }, `updated ${kind.kind}`);
    return updated;
  }
}
