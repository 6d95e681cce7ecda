// Route reconciler: resolves traffic targets to Revisions, computes URLs, steps gradual rollouts,
// keeps the placeholder Kubernetes Services (ExternalName aliases of the gateway) and the routing
// state of Revisions, and writes the Route's status. The gateway routes from that status.
import { setHeaderOptions, PatchStrategy, type V1Service } from '@kubernetes/client-node';
import { deepEqual } from '../../apis/object-diff.ts';
import { parseGoDuration } from '../../apis/config/go-duration.ts';
import { ANNOTATIONS, LABELS, VISIBILITY_CLUSTER_LOCAL } from '../../apis/serving/register.ts';
import {
  ALL_TRAFFIC_ASSIGNED,
  CERTIFICATE_PROVISIONED,
  INGRESS_READY,
  REASON_ROLLOUT_IN_PROGRESS,
  REASON_TLS_NOT_ENABLED,
  ROLLOUT_IN_PROGRESS_MESSAGE,
  ROUTE_CONDITIONS,
  TLS_NOT_ENABLED_MESSAGE,
  markServiceNotOwned,
} from '../../apis/serving/v1/route-lifecycle.ts';
import type { Route, RouteStatus } from '../../apis/serving/v1/route-types.ts';
import { objectKey } from '../../controller/informer.ts';
import { CONFIGURATIONS, REVISIONS, ROUTES, isNotFound } from '../../controller/kube.ts';
import type { ReconcileResult } from '../../controller/workqueue.ts';
import type { ReconcilerContext } from '../context.ts';
import { KindReconciler, type KindOutcome } from '../shared/kind-reconciler.ts';
import { isControlledBy } from '../shared/meta.ts';
import { RecentlyCreated } from '../shared/recently-created.ts';
import { reconcileChild } from '../shared/reconcile-child.ts';
import { asStored, readyStatus } from '../status.ts';
import { routeURLs, targetHostname } from './resources/domains.ts';
import {
  configurationRoutingPatches,
  revisionRoutingPatches,
  routedObjects,
  type MetadataPatch,
  type RoutedObject,
} from './resources/routing-state.ts';
import { makePlaceholderServices } from './resources/services.ts';
import { buildRollout, parseRollout, serializeRollout, stepRollout, trafficFromRollout } from './rollout.ts';
import { resolveTraffic, statusTraffic, type TrafficLookup } from './traffic.ts';

/** Where the rollout state lives: the Route's status annotations (ebb has no Ingress object). */
export const ROLLOUT_ANNOTATION = 'networking.internal.knative.dev/rollout';

/** Names a Route's spec points at (revisions and configurations), for reverse lookups. */
export function routeReferences(route: Route): string[] {
  const names = new Set<string>();
  for (const t of route.spec.traffic ?? []) {
    if (t.revisionName) names.add(t.revisionName);
    if (t.configurationName) names.add(t.configurationName);
  }
  for (const t of route.status?.traffic ?? []) if (t.revisionName) names.add(t.revisionName);
  return [...names];
}

/** The rollout duration in seconds: the Route's annotation, else config-network's. */
export function rolloutDuration(route: Route, fallbackSeconds: number): number {
  const a = route.metadata.annotations ?? {};
  const raw = a[ANNOTATIONS.rolloutDuration] ?? a[ANNOTATIONS.rolloutDurationAlias];
  if (raw === undefined) return fallbackSeconds;
  const ms = parseGoDuration(raw);
  return ms === undefined || ms < 0 ? fallbackSeconds : Math.floor(ms / 1000);
}

/**
 * Knative's labeler finalizer on Routes: a Route being deleted first takes itself off the Revisions
 * and Configurations it routed to, so they turn reserve (scaled down, collectable) without it.
 */
export const ROUTE_FINALIZER = 'routes.serving.knative.dev';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class RouteReconciler {
  private readonly ctx: ReconcilerContext;
  private readonly created = new RecentlyCreated<V1Service>();
  private readonly generic: KindReconciler<Route, RouteStatus>;

  constructor(ctx: ReconcilerContext) {
    this.ctx = ctx;
    this.generic = new KindReconciler(ctx, {
      kind: ROUTES,
      cache: ctx.world.routes,
      reconcileKind: (route) => this.reconcileKind(route),
      finalizer: {
        name: ROUTE_FINALIZER,
        finalizeKind: (route) =>
          this.updateRoutingState(
            route,
            { revisions: new Set(), configurations: new Set() },
            true,
            this.ctx.now(),
          ),
      },
    });
  }

  reconcile(key: string): Promise<ReconcileResult | undefined> {
    return this.generic.reconcile(key);
  }

  private lookup(namespace: string): TrafficLookup {
    const { configurations, revisions } = this.ctx.world;
    return {
      configuration: (name) => {
        const c = configurations.get(`${namespace}/${name}`);
        if (c === undefined) return undefined;
        const observed = c.status?.observedGeneration === c.metadata.generation;
        return {
          name,
          generation: c.metadata.generation,
          latestCreatedRevisionName: c.status?.latestCreatedRevisionName,
          latestReadyRevisionName: c.status?.latestReadyRevisionName,
          ready: observed ? readyStatus(c.status?.conditions) : 'Unknown',
        };
      },
      revision: (name) => {
        const r = revisions.get(`${namespace}/${name}`);
        if (r === undefined) return undefined;
        return {
          name,
          configurationName: r.metadata.labels?.[LABELS.configuration],
          ready:
            r.status?.observedGeneration === r.metadata.generation
              ? readyStatus(r.status?.conditions)
              : 'Unknown',
        };
      },
    };
  }

  private async reconcileKind(route: Route): Promise<KindOutcome<RouteStatus>> {
    const namespace = route.metadata.namespace ?? '';
    const now = this.ctx.now();
    const config = this.ctx.config();
    const lookup = this.lookup(namespace);
    const m = ROUTE_CONDITIONS.manage(route.status?.conditions, now);
    m.initialize();
    m.markTrue(CERTIFICATE_PROVISIONED, REASON_TLS_NOT_ENABLED, TLS_NOT_ENABLED_MESSAGE);

    const urls = routeURLs(
      route,
      { network: config.network, domain: config.domain, clusterDomain: this.ctx.clusterDomain },
      this.clusterLocalTags(route),
    );
    const status: RouteStatus = { url: urls.url, address: { url: urls.address } };
    let requeueAfterMs: number | undefined;
    let error: Error | undefined;

    const resolved = resolveTraffic(route, lookup);
    if (!resolved.ok) {
      if (resolved.status === 'False') m.markFalse(ALL_TRAFFIC_ASSIGNED, resolved.reason, resolved.message);
      else m.markUnknown(ALL_TRAFFIC_ASSIGNED, resolved.reason, resolved.message);
      // Keep serving what was assigned before; a Route never loses traffic to a transient failure.
      if (route.status?.traffic !== undefined) status.traffic = route.status.traffic;
      if (route.status?.annotations !== undefined) status.annotations = route.status.annotations;
    } else {
      m.markTrue(ALL_TRAFFIC_ASSIGNED);
      const duration = rolloutDuration(route, config.network.rolloutDurationSeconds);
      const step = stepRollout(
        parseRollout(route.status?.annotations?.[ROLLOUT_ANNOTATION]),
        buildRollout(resolved),
        duration,
        now.getTime(),
      );
      const effective = step.inProgress ? trafficFromRollout(resolved, step.rollout) : resolved;
      status.traffic = statusTraffic(effective, (tag) => urls.tagURL(tag));
      if (duration > 0) status.annotations = { [ROLLOUT_ANNOTATION]: serializeRollout(step.rollout) };
      if (step.nextStepAt !== undefined) requeueAfterMs = Math.max(0, step.nextStepAt - now.getTime());

      const notOwned = await this.reconcilePlaceholders(route, [...resolved.byTag.keys()]);
      if (notOwned !== undefined) {
        // As Knative: the status says so, and the Route is tried again with back-off (the other
        // Service may carry no route label, so no event of it would bring the Route back).
        markServiceNotOwned(m, notOwned);
        error = new Error(
          `route: ${JSON.stringify(route.metadata.name ?? '')} does not own Service: ${JSON.stringify(notOwned)}`,
        );
      } else if (step.inProgress)
        m.markUnknown(INGRESS_READY, REASON_ROLLOUT_IN_PROGRESS, ROLLOUT_IN_PROGRESS_MESSAGE);
      else m.markTrue(INGRESS_READY);

      const referenced = routedObjects({ spec: route.spec, status: { traffic: status.traffic } }, lookup);
      for (const r of effective.revisions) referenced.revisions.add(r);
      await this.updateRoutingState(route, referenced, m.isReady(), now);
    }
    status.conditions = m.conditions();
    // The gateway routes from status.traffic (and a rollout steps through the annotations): a
    // status that changes either is never held back.
    const progressOnly =
      readyStatus(status.conditions) === 'Unknown' &&
      deepEqual(asStored(status.traffic), route.status?.traffic) &&
      deepEqual(asStored(status.annotations), route.status?.annotations);
    return { status, progressOnly, requeueAfterMs, error };
  }

  /**
   * The tags made private on their own: as in Knative, a user labels a tag's placeholder Service
   * `networking.knative.dev/visibility: cluster-local`, and that tag then answers only inside the
   * cluster, whatever the Route's own visibility. (Placeholders keep labels they did not get from
   * the Route; see updatedPlaceholder.)
   */
  private clusterLocalTags(route: Route): Set<string> {
    const namespace = route.metadata.namespace ?? '';
    const name = route.metadata.name ?? '';
    const network = this.ctx.config().network;
    const local = new Set<string>();
    for (const t of route.spec.traffic ?? []) {
      const tag = t.tag ?? '';
      if (tag === '') continue;
      const svc = this.ctx.world.k8sServices.get(`${namespace}/${targetHostname(network, name, tag)}`);
      if (
        svc !== undefined &&
        isControlledBy(svc, route) &&
        svc.metadata?.labels?.[LABELS.visibility] === VISIBILITY_CLUSTER_LOCAL
      )
        local.add(tag);
    }
    return local;
  }

  /**
   * Creates or updates a placeholder Service per tag and deletes those of tags gone from the spec.
   * Returns the name of the first one someone else owns, if any.
   */
  private async reconcilePlaceholders(route: Route, tags: string[]): Promise<string | undefined> {
    const namespace = route.metadata.namespace ?? '';
    const desired = makePlaceholderServices(route, tags, {
      network: this.ctx.config().network,
      clusterDomain: this.ctx.clusterDomain,
      gatewayService: this.ctx.gatewayService,
      systemNamespace: this.ctx.systemNamespace,
    });
    const wanted = new Set(desired.map((s) => s.metadata?.name));
    const now = this.ctx.now().getTime();
    let notOwned: string | undefined;
    for (const svc of desired) {
      const name = svc.metadata?.name ?? '';
      const key = `${namespace}/${name}`;
      const result = await reconcileChild(this.ctx, {
        owner: route,
        noun: 'placeholder service',
        key,
        existing: this.created.resolve(key, this.ctx.world.k8sServices.get(key), now),
        recent: this.created,
        desired: svc,
        create: (body) => this.ctx.core.createNamespacedService({ namespace, body }),
        read: () => this.ctx.core.readNamespacedService({ namespace, name }),
        needsUpdate: placeholderChanged,
        merge: updatedPlaceholder,
        update: (body) => this.ctx.core.replaceNamespacedService({ namespace, name, body }),
      });
      if (result.outcome === 'not-owned') notOwned ??= name;
    }
    // Tags removed from the spec leave Services behind: delete the ones this Route owns.
    for (const existing of this.ctx.world.k8sServicesByRoute.get(objectKey(route))) {
      if (wanted.has(existing.metadata?.name) || !isControlledBy(existing, route)) continue;
      try {
        await this.ctx.core.deleteNamespacedService({ namespace, name: existing.metadata?.name ?? '' });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return notOwned;
  }

  private async updateRoutingState(
    route: Route,
    referenced: { revisions: Set<string>; configurations: Set<string> },
    settled: boolean,
    now: Date,
  ): Promise<void> {
    const namespace = route.metadata.namespace ?? '';
    const key = objectKey(route);
    // What this Route references now, plus what still lists it: nothing else can change.
    const relevant = <T extends RoutedMeta>(
      names: Set<string>,
      listed: T[],
      get: (k: string) => T | undefined,
    ): RoutedObject[] => {
      const out = new Map<string, RoutedMeta>();
      for (const o of listed) out.set(o.metadata.name ?? '', o);
      for (const n of names) {
        const o = get(`${namespace}/${n}`);
        if (o !== undefined) out.set(n, o);
      }
      return [...out.values()].map((o) => ({
        name: o.metadata.name ?? '',
        labels: o.metadata.labels,
        annotations: o.metadata.annotations,
      }));
    };
    const { world } = this.ctx;
    const routeName = route.metadata.name ?? '';
    const revPatches = revisionRoutingPatches({
      route: routeName,
      referenced: referenced.revisions,
      objects: relevant(referenced.revisions, world.revisionsByRoute.get(key), (k) => world.revisions.get(k)),
      clearUnreferenced: settled,
      now: now.getTime(),
    });
    const cfgPatches = configurationRoutingPatches({
      route: routeName,
      referenced: referenced.configurations,
      objects: relevant(referenced.configurations, world.configurationsByRoute.get(key), (k) =>
        world.configurations.get(k),
      ),
      clearUnreferenced: settled,
    });
    await this.patchAll(REVISIONS, namespace, revPatches);
    await this.patchAll(CONFIGURATIONS, namespace, cfgPatches);
  }

  private async patchAll(kind: typeof REVISIONS, namespace: string, patches: MetadataPatch[]): Promise<void> {
    for (const p of patches) {
      const metadata: Record<string, unknown> = {};
      if (p.labels !== undefined) metadata.labels = p.labels;
      if (p.annotations !== undefined) metadata.annotations = p.annotations;
      try {
        await this.ctx.custom.patch(kind, namespace, p.name, { metadata }, MERGE_PATCH);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }
}

interface RoutedMeta {
  metadata: {
    namespace?: string;
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

/**
 * The stored Service with the Route's labels and annotations laid over its own and the spec the
 * Route owns replaced; the rest (clusterIP etc.) kept. As in Knative, labels and annotations are
 * only ever added or changed on a placeholder, never removed: a key the Route drops stays, and so
 * does a key someone else set, such as a tag's visibility label.
 */
function updatedPlaceholder(existing: V1Service, desired: V1Service): V1Service {
  const body = structuredClone(existing);
  body.metadata = body.metadata ?? {};
  body.metadata.labels = { ...existing.metadata?.labels, ...desired.metadata?.labels };
  body.metadata.annotations = { ...existing.metadata?.annotations, ...desired.metadata?.annotations };
  body.spec = Object.assign(body.spec ?? {}, desired.spec);
  return body;
}

function placeholderChanged(existing: V1Service, desired: V1Service): boolean {
  const covers = (have: Record<string, string> | undefined, want: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
  const spec = (s: V1Service) =>
    asStored({ type: s.spec?.type, externalName: s.spec?.externalName, ports: s.spec?.ports });
  // deepEqual, not string comparison: the API server does not keep our key order.
  return (
    !covers(existing.metadata?.labels, desired.metadata?.labels) ||
    !covers(existing.metadata?.annotations, desired.metadata?.annotations) ||
    !deepEqual(spec(existing), spec(desired))
  );
}
