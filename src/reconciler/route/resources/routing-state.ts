// Which revisions (and configurations) a Route keeps routed, after Knative's labeler (v2): the
// serving.knative.dev/routes annotation lists the routes referencing an object, and a revision's
// serving.knative.dev/routingState label says active while any does, reserve once the last lets go.
// The revision reconciler reads that state to decide reachability, and GC to decide what to keep.
// Pure: returns merge patches of metadata; the clock is passed in.
import type { TrafficTarget } from '../../../apis/serving/v1/route-types.ts';
import { ANNOTATIONS, LABELS } from '../../../apis/serving/register.ts';
import type { TrafficLookup } from '../traffic.ts';

export type RoutingState = 'pending' | 'active' | 'reserve';

/** The metadata of a Revision or Configuration that routing touches. */
export interface RoutedObject {
  name: string;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
}

/** A JSON merge patch of one object's metadata: a null annotation is removed. */
export interface MetadataPatch {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string | null>;
}

/** The routingStateModified value: RFC 3339 in UTC, whole seconds, as Go's time.RFC3339 gives. */
export function routingStateModified(now: number): string {
  return new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * What a Route references, as Knative's labeler finds it: revisions named in status.traffic and
 * spec.traffic, the configurations they come from or follow, and for a target following the latest
 * revision also the configuration's latest *created* revision, so a new revision is routed (and
 * scaled) before it becomes ready. Names the lookup does not know are left out.
 */
export function routedObjects(
  route: { spec: { traffic?: readonly TrafficTarget[] }; status?: { traffic?: readonly TrafficTarget[] } },
  lookup: TrafficLookup,
): { revisions: Set<string>; configurations: Set<string> } {
  const revisions = new Set<string>();
  const configurations = new Set<string>();
  for (const tt of [...(route.status?.traffic ?? []), ...(route.spec.traffic ?? [])]) {
    let configName = tt.configurationName;
    if (tt.revisionName) {
      const rev = lookup.revision(tt.revisionName);
      if (rev === undefined) continue;
      revisions.add(rev.name);
      if (rev.configurationName !== undefined) configName = rev.configurationName;
    }
    if (!configName) continue;
    const config = lookup.configuration(configName);
    if (config === undefined) continue;
    configurations.add(config.name);
    if (config.latestCreatedRevisionName && tt.latestRevision === true) {
      revisions.add(config.latestCreatedRevisionName);
    }
  }
  return { revisions, configurations };
}

export interface RoutingInput {
  /** The Route whose references are being written. */
  route: string;
  /** Names it references now (routedObjects, plus revisions a rollout still sends traffic to). */
  referenced: ReadonlySet<string>;
  /** The objects in the Route's namespace. */
  objects: readonly RoutedObject[];
  /**
   * Drop this route from objects it no longer references. Knative waits until the Route is Ready or
   * failed, so an old revision stays routed while the new one comes up. Default true.
   */
  clearUnreferenced?: boolean;
}

function routesOf(obj: RoutedObject): Set<string> {
  const value = obj.annotations?.[ANNOTATIONS.routes] ?? '';
  return new Set(value.split(',').filter((n) => n !== ''));
}

/** The routes annotation after adding or removing `route`, or undefined when unchanged. */
function routesChange(obj: RoutedObject, route: string, add: boolean): string | null | undefined {
  const routes = routesOf(obj);
  if (routes.has(route) === add) return undefined;
  if (add) routes.add(route);
  else routes.delete(route);
  return routes.size === 0 ? null : [...routes].sort().join(',');
}

function changed(obj: RoutedObject, routes: string | null | undefined): MetadataPatch | undefined {
  return routes === undefined ? undefined : { name: obj.name, annotations: { [ANNOTATIONS.routes]: routes } };
}

const byName = (a: MetadataPatch, b: MetadataPatch): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * Patches for revisions: referenced ones gain the route and turn active; active ones this route let
 * go lose it and turn reserve when no route is left. Pending revisions nobody references are left
 * alone. Each state change stamps routingStateModified with `now` (ms).
 */
export function revisionRoutingPatches(input: RoutingInput & { now: number }): MetadataPatch[] {
  const clear = input.clearUnreferenced ?? true;
  const patches: MetadataPatch[] = [];
  for (const rev of input.objects) {
    const state = rev.labels?.[LABELS.routingState] ?? '';
    const referenced = input.referenced.has(rev.name);
    // Knative only clears revisions it lists as active for this route.
    if (!referenced && !(clear && state === 'active' && routesOf(rev).has(input.route))) continue;
    const routes = routesChange(rev, input.route, referenced);
    const remaining = routes === undefined ? routesOf(rev).size : routes === null ? 0 : 1;
    const want: RoutingState = remaining > 0 ? 'active' : 'reserve';
    const patch = changed(rev, routes) ?? { name: rev.name };
    if (state !== want) {
      patch.labels = { [LABELS.routingState]: want };
      patch.annotations = {
        ...patch.annotations,
        [ANNOTATIONS.routingStateModified]: routingStateModified(input.now),
      };
    }
    if (patch.labels !== undefined || patch.annotations !== undefined) patches.push(patch);
  }
  return patches.sort(byName);
}

/** Patches for configurations: only the routes annotation (configurations carry no routing state). */
export function configurationRoutingPatches(input: RoutingInput): MetadataPatch[] {
  const clear = input.clearUnreferenced ?? true;
  const patches: MetadataPatch[] = [];
  for (const config of input.objects) {
    const referenced = input.referenced.has(config.name);
    if (!referenced && !clear) continue;
    const patch = changed(config, routesChange(config, input.route, referenced));
    if (patch !== undefined) patches.push(patch);
  }
  return patches.sort(byName);
}
