// Flattens a Route's spec.traffic to revisions, after Knative's pkg/reconciler/route/traffic:
// configuration targets follow the latest ready revision, targets are merged and grouped by tag,
// and an unroutable target becomes the AllTrafficAssigned condition Knative would write. Pure: the
// caller supplies lookups over its informer caches.
import type { ConditionStatus } from '../../apis/meta/v1.ts';
import type { Route, TrafficTarget } from '../../apis/serving/v1/route-types.ts';

/** What traffic resolution needs to know about a Configuration. */
export interface ConfigurationView {
  name: string;
  generation?: number;
  latestCreatedRevisionName?: string;
  latestReadyRevisionName?: string;
  /** The Configuration's Ready condition; a missing condition counts as Unknown. */
  ready: ConditionStatus;
  failedMessage?: string;
}

/** What traffic resolution needs to know about a Revision. */
export interface RevisionView {
  name: string;
  /** From the revision's serving.knative.dev/configuration label. */
  configurationName?: string;
  ready: ConditionStatus;
  message?: string;
}

export interface TrafficLookup {
  configuration(name: string): ConfigurationView | undefined;
  revision(name: string): RevisionView | undefined;
}

/** A traffic target flattened to one revision. `tag` is absent for the default (untagged) target. */
export interface ResolvedTarget {
  tag?: string;
  revisionName: string;
  /** The configuration followed, or (for a pinned revision) the one that created it. */
  configurationName?: string;
  latestRevision: boolean;
  percent: number;
}

/** The key of the untagged group in `ResolvedTraffic.groups`. */
export const DEFAULT_TARGET = '';

export interface ResolvedTraffic {
  ok: true;
  /**
   * The spec's targets in spec order, with entries of the same tag, revision and latestRevision
   * merged by adding percents. This is what status.traffic lists.
   */
  targets: ResolvedTarget[];
  /**
   * What each host serves: DEFAULT_TARGET ('') holds every target (the route's main host), and each
   * tag holds its own target at 100% (the tag's host). Within a group, entries of one revision are
   * merged in order of first appearance. Keys are sorted, so '' comes first. Entries at 0% get no
   * traffic.
   */
  groups: Map<string, ResolvedTarget[]>;
  /** tag -> the revision its host routes to. */
  byTag: Map<string, string>;
  /** Every revision the route sends traffic to or looked up, sorted. */
  revisions: string[];
  /** Every configuration the route follows or whose revision it pins, sorted. */
  configurations: string[];
}

export type TrafficFailureReason = 'RevisionMissing' | 'ConfigurationMissing';

export interface TrafficFailure {
  ok: false;
  /** The AllTrafficAssigned status to write: False for a failure, Unknown while waiting. */
  status: 'False' | 'Unknown';
  reason: TrafficFailureReason;
  message: string;
  /** What was found before giving up, sorted, so the caller can still watch it. */
  revisions: string[];
  configurations: string[];
}

/** A target error, as Knative's TargetError: failures (False) win over waits (Unknown). */
interface TargetError {
  failure: boolean;
  reason: TrafficFailureReason;
  message: string;
}

function missing(kind: 'Revision' | 'Configuration', name: string): TargetError {
  return {
    failure: true,
    reason: kind === 'Revision' ? 'RevisionMissing' : 'ConfigurationMissing',
    message: `${kind} ${JSON.stringify(name)} referenced in traffic not found.`,
  };
}

function unreadyConfiguration(config: ConfigurationView): TargetError {
  const failure = config.ready === 'False';
  const name = JSON.stringify(config.name);
  return {
    failure,
    reason: 'RevisionMissing',
    message: failure
      ? `Configuration ${name} does not have any ready Revision.`
      : `Configuration ${name} is waiting for a Revision to become ready.`,
  };
}

function unreadyRevision(rev: RevisionView): TargetError {
  const failure = rev.ready === 'False';
  const name = JSON.stringify(rev.name);
  return {
    failure,
    reason: 'RevisionMissing',
    message: failure ? `Revision ${name} failed to become ready.` : `Revision ${name} is not yet ready.`,
  };
}

/** Memoizes lookups and records what was found, like Knative's configBuilder. */
class Resolver {
  readonly configurations = new Map<string, ConfigurationView>();
  readonly revisions = new Map<string, RevisionView>();
  private readonly lookup: TrafficLookup;

  constructor(lookup: TrafficLookup) {
    this.lookup = lookup;
  }

  configuration(name: string): ConfigurationView | TargetError {
    const known = this.configurations.get(name) ?? this.lookup.configuration(name);
    if (known === undefined) return missing('Configuration', name);
    this.configurations.set(name, known);
    return known;
  }

  revision(name: string): RevisionView | TargetError {
    const known = this.revisions.get(name) ?? this.lookup.revision(name);
    if (known === undefined) return missing('Revision', name);
    this.revisions.set(name, known);
    return known;
  }

  /** One spec target as a revision-level target, or why it cannot be routed. */
  flatten(tt: TrafficTarget): ResolvedTarget | TargetError | undefined {
    const base = {
      ...(tt.tag ? { tag: tt.tag } : {}),
      latestRevision: tt.latestRevision ?? !tt.revisionName,
      percent: tt.percent ?? 0,
    };
    if (tt.revisionName) {
      const rev = this.revision(tt.revisionName);
      if ('failure' in rev) return rev;
      if (rev.ready !== 'True') return unreadyRevision(rev);
      if (rev.configurationName === undefined) return { ...base, revisionName: rev.name };
      const config = this.configuration(rev.configurationName);
      if ('failure' in config) return config;
      return { ...base, revisionName: rev.name, configurationName: config.name };
    }
    if (tt.configurationName) {
      const config = this.configuration(tt.configurationName);
      if ('failure' in config) return config;
      if (!config.latestReadyRevisionName) return unreadyConfiguration(config);
      const rev = this.revision(config.latestReadyRevisionName);
      if ('failure' in rev) return rev;
      return { ...base, revisionName: rev.name, configurationName: config.name };
    }
    // Neither: validation rejects this for Routes; Knative skips it.
    return undefined;
  }
}

/** Merges a target into the status list when tag, revision and latestRevision all match. */
function mergeForStatus(targets: ResolvedTarget[], target: ResolvedTarget): void {
  const same = targets.find(
    (t) =>
      t.tag === target.tag &&
      t.revisionName === target.revisionName &&
      t.latestRevision === target.latestRevision,
  );
  if (same === undefined) targets.push({ ...target });
  else same.percent += target.percent;
}

/** Merges a group's entries by revision; a group of one revision gets all of that host's traffic. */
function consolidate(targets: readonly ResolvedTarget[]): ResolvedTarget[] {
  const byRevision = new Map<string, ResolvedTarget>();
  for (const t of targets) {
    const seen = byRevision.get(t.revisionName);
    if (seen === undefined) byRevision.set(t.revisionName, { ...t });
    else seen.percent += t.percent;
  }
  const out = [...byRevision.values()];
  if (out.length === 1 && out[0] !== undefined) out[0].percent = 100;
  return out;
}

const sorted = (names: Iterable<string>): string[] => [...names].sort();

/**
 * Resolves spec.traffic (already defaulted) to revisions. Every target is looked at even after an
 * error, so the result names everything referenced; the error kept is the last failure, or the
 * first wait when nothing failed, as Knative's deferTargetError does.
 */
export function resolveTraffic(
  route: Pick<Route, 'spec'>,
  lookup: TrafficLookup,
): ResolvedTraffic | TrafficFailure {
  const resolver = new Resolver(lookup);
  const targets: ResolvedTarget[] = [];
  const grouped = new Map<string, ResolvedTarget[]>();
  let error: TargetError | undefined;
  for (const tt of route.spec.traffic ?? []) {
    const flat = resolver.flatten(tt);
    if (flat === undefined) continue;
    if ('failure' in flat) {
      if (error === undefined || flat.failure) error = flat;
      continue;
    }
    mergeForStatus(targets, flat);
    for (const key of flat.tag === undefined ? [DEFAULT_TARGET] : [DEFAULT_TARGET, flat.tag]) {
      const group = grouped.get(key) ?? [];
      group.push(flat);
      grouped.set(key, group);
    }
  }
  const revisions = sorted(resolver.revisions.keys());
  const configurations = sorted(resolver.configurations.keys());
  if (error !== undefined) {
    return {
      ok: false,
      status: error.failure ? 'False' : 'Unknown',
      reason: error.reason,
      message: error.message,
      revisions,
      configurations,
    };
  }
  const groups = new Map<string, ResolvedTarget[]>();
  const byTag = new Map<string, string>();
  for (const key of sorted(grouped.keys())) {
    const group = consolidate(grouped.get(key) ?? []);
    groups.set(key, group);
    if (key !== DEFAULT_TARGET && group[0] !== undefined) byTag.set(key, group[0].revisionName);
  }
  return { ok: true, targets, groups, byTag, revisions, configurations };
}

/**
 * status.traffic for resolved (or rollout-adjusted) traffic: revision names instead of
 * configurations, and a URL on each tagged entry.
 */
export function statusTraffic(
  resolved: Pick<ResolvedTraffic, 'targets'>,
  urlForTag: (tag: string) => string,
): TrafficTarget[] {
  return resolved.targets.map((t) => ({
    ...(t.tag !== undefined ? { tag: t.tag } : {}),
    revisionName: t.revisionName,
    latestRevision: t.latestRevision,
    percent: t.percent,
    ...(t.tag !== undefined ? { url: urlForTag(t.tag) } : {}),
  }));
}
