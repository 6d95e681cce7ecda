// Service reconciler: keeps the Configuration and Route of the Service's name in line with its
// spec, and rolls their statuses up into the Service's.
import type { Configuration } from '../../apis/serving/v1/configuration-types.ts';
import { defaultConfiguration, defaultService } from '../../apis/serving/v1/defaults.ts';
import type { Route } from '../../apis/serving/v1/route-types.ts';
import type { Service, ServiceStatus } from '../../apis/serving/v1/service-types.ts';
import { objectKey } from '../../controller/informer.ts';
import { CONFIGURATIONS, ROUTES, SERVING_SERVICES } from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import { revisionName } from '../configuration/resources/revision.ts';
import type { ReconcilerContext } from '../context.ts';
import { childNeedsUpdate, withOwnedFields } from '../shared/child.ts';
import { KindReconciler, type KindOutcome } from '../shared/kind-reconciler.ts';
import { isControlledBy } from '../shared/meta.ts';
import { RecentlyCreated } from '../shared/recently-created.ts';
import { reconcileChild } from '../shared/reconcile-child.ts';
import { readyStatus } from '../status.ts';
import { makeConfiguration } from './resources/configuration.ts';
import { makeRoute } from './resources/route.ts';
import { serviceStatus, type ServiceChildren } from './service-status.ts';

export class ServiceReconciler {
  private readonly ctx: ReconcilerContext;
  private readonly created = {
    configurations: new RecentlyCreated<Configuration>(),
    routes: new RecentlyCreated<Route>(),
  };
  private readonly generic: KindReconciler<Service, ServiceStatus>;

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
    this.generic = new KindReconciler(ctx, {
      kind: SERVING_SERVICES,
      cache: ctx.world.services,
      reconcileKind: (svc) => this.reconcileKind(svc),
    });
  }

  reconcile(key: string): Promise<ReconcileResult | undefined> {
    return this.generic.reconcile(key);
  }

  private async reconcileKind(svc: Service): Promise<KindOutcome<ServiceStatus>> {
    const key = objectKey(svc);
    const namespace = svc.metadata.namespace ?? '';
    const { world } = this.ctx;
    const now = this.ctx.now().getTime();
    const children: ServiceChildren = {};

    // As Knative's reconcileConfiguration: both sides are compared with today's defaults applied,
    // so a template stored before a default existed (or in another JSON shape of the same values)
    // is not mistaken for a new one, which would mint a Revision.
    const config = { config: this.ctx.config() };
    const existingCfg = this.created.configurations.resolve(key, world.configurations.get(key), now);
    const cfg = await reconcileChild(this.ctx, {
      owner: svc,
      noun: 'Configuration',
      key,
      existing: existingCfg,
      recent: this.created.configurations,
      desired: makeConfiguration(defaultService(svc, config), existingCfg),
      create: (body) => this.ctx.custom.create(CONFIGURATIONS, body),
      read: () => this.ctx.custom.get<Configuration>(CONFIGURATIONS, namespace, svc.metadata.name ?? ''),
      needsUpdate: (have, want) => childNeedsUpdate(defaultConfiguration(have, config), want),
      merge: withOwnedFields,
      update: (body) => this.ctx.custom.replace(CONFIGURATIONS, body),
    });
    if (cfg.outcome === 'not-owned') children.configurationNotOwned = true;
    else children.configuration = cfg.child;

    // With a bring-your-own revision name, the Route may only name the new Revision once the
    // Configuration has created it; until then the Route keeps its old traffic.
    const byo = svc.spec.template.metadata?.name ?? '';
    let holdRoute = false;
    if (byo !== '' && cfg.outcome !== 'not-owned') {
      const c = cfg.child;
      if (
        c.metadata.generation !== c.status?.observedGeneration ||
        c.status?.latestCreatedRevisionName !== byo
      )
        holdRoute = true;
      const rev = world.revisions.get(`${namespace}/${byo}`);
      if (rev !== undefined && !isControlledBy(rev, c)) children.revisionNameTaken = byo;
      else if (revisionName(c) !== byo) holdRoute = true;
    }

    const route = await reconcileChild(this.ctx, {
      owner: svc,
      noun: 'Route',
      key,
      existing: this.created.routes.resolve(key, world.routes.get(key), now),
      recent: this.created.routes,
      desired: makeRoute(svc),
      create: (body) => this.ctx.custom.create(ROUTES, body),
      read: () => this.ctx.custom.get<Route>(ROUTES, namespace, svc.metadata.name ?? ''),
      needsUpdate: (have, want) => !holdRoute && childNeedsUpdate(have, want),
      merge: withOwnedFields,
      update: (body) => this.ctx.custom.replace(ROUTES, body),
    });
    if (route.outcome === 'not-owned') children.routeNotOwned = true;
    else children.route = route.child;

    const status = serviceStatus(svc, children, this.ctx.now());
    return {
      status,
      progressOnly: readyStatus(status.conditions) === 'Unknown',
      childrenCreated: cfg.outcome === 'created' || route.outcome === 'created',
    };
  }
}
