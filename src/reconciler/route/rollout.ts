// Gradual rollout of a configuration's new revision, after Knative's
// pkg/reconciler/route/traffic/rollout.go: the new revision starts at 1% and takes stepSize more
// every stepDuration until it holds the configuration's whole share. Pure, with the clock passed
// in. The state is Knative's JSON, except that times are Unix milliseconds, not nanoseconds
// (nanoseconds do not fit a JS number).
//
// Knative computes the step parameters when it sees the Ingress turn ready after the first 1%
// moved. ebb's gateway programs itself from the Route with no Ingress to wait for, so readiness is
// observed as soon as a rollout starts: the first 1% counts as taking the minimum of 1s.
import { z } from 'zod';
import { DEFAULT_TARGET, type ResolvedTarget, type ResolvedTraffic } from './traffic.ts';

export interface RevisionRollout {
  revisionName: string;
  /** Share of the route's (or tag's) traffic, not of the configuration's. */
  percent: number;
}

export interface RolloutParams {
  /** When the current rollout began (ms); 0 when none is under way. */
  starttime: number;
  /** When the next step is due (ms). */
  nextStepTime: number;
  /** ms between steps. */
  stepDuration: number;
  /** Percent moved per step. */
  stepSize: number;
}

export interface ConfigurationRollout {
  configurationName: string;
  /** '' for the route's main host. */
  tag: string;
  /** The configuration's total share; the revisions' percents add up to it. */
  percent: number;
  /** Oldest first; the last is the revision being rolled out. One entry when no rollout is under way. */
  revisions: RevisionRollout[];
  stepParams: RolloutParams;
}

export interface Rollout {
  /** Sorted by tag, then configuration name. */
  configurations: ConfigurationRollout[];
}

const NO_PARAMS: RolloutParams = { starttime: 0, nextStepTime: 0, stepDuration: 0, stepSize: 0 };

const nonNegative = z.number().int().nonnegative().default(0);
const RolloutJSON = z.object({
  configurations: z
    .array(
      z.object({
        configurationName: z.string(),
        tag: z.string().default(''),
        percent: nonNegative,
        revisions: z.array(z.object({ revisionName: z.string(), percent: nonNegative })).default([]),
        stepParams: z
          .object({
            starttime: nonNegative,
            nextStepTime: nonNegative,
            stepDuration: nonNegative,
            stepSize: nonNegative,
          })
          .default({ ...NO_PARAMS }),
      }),
    )
    .default([]),
});

/**
 * Reads a stored rollout. Anything malformed or inconsistent (over 100%, revisions not adding up,
 * a step larger than the total) is discarded, as Knative does: a rollout is not worth failing for.
 */
export function parseRollout(json: string | undefined): Rollout | undefined {
  if (json === undefined || json === '') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = RolloutJSON.safeParse(raw);
  if (!parsed.success) return undefined;
  const rollout: Rollout = parsed.data;
  return rolloutIsValid(rollout) ? rollout : undefined;
}

function rolloutIsValid(rollout: Rollout): boolean {
  return rollout.configurations.every(
    (c) =>
      c.percent <= 100 &&
      c.stepParams.stepSize <= c.percent &&
      c.revisions.reduce((sum, r) => sum + r.percent, 0) === c.percent,
  );
}

/** Knative's JSON form: empty fields left out, keys in Knative's order. */
export function serializeRollout(rollout: Rollout): string {
  const configurations = rollout.configurations.map((c) => {
    const p = c.stepParams;
    return {
      configurationName: c.configurationName,
      ...(c.tag !== '' ? { tag: c.tag } : {}),
      percent: c.percent,
      ...(c.revisions.length > 0 ? { revisions: c.revisions } : {}),
      stepParams: {
        ...(p.starttime !== 0 ? { starttime: p.starttime } : {}),
        ...(p.nextStepTime !== 0 ? { nextStepTime: p.nextStepTime } : {}),
        ...(p.stepDuration !== 0 ? { stepDuration: p.stepDuration } : {}),
        ...(p.stepSize !== 0 ? { stepSize: p.stepSize } : {}),
      },
    };
  });
  return JSON.stringify(configurations.length > 0 ? { configurations } : {});
}

function byTagThenName(a: ConfigurationRollout, b: ConfigurationRollout): number {
  if (a.tag !== b.tag) return a.tag < b.tag ? -1 : 1;
  if (a.configurationName === b.configurationName) return 0;
  return a.configurationName < b.configurationName ? -1 : 1;
}

/**
 * The steady state the traffic asks for: per host (tag), one entry per configuration followed at
 * more than 0%, all of it on the latest ready revision. Knative's BuildRollout.
 */
export function buildRollout(resolved: Pick<ResolvedTraffic, 'groups'>): Rollout {
  const configurations: ConfigurationRollout[] = [];
  for (const [tag, group] of resolved.groups) {
    for (const t of group) {
      if (!t.latestRevision || t.percent === 0 || t.configurationName === undefined) continue;
      configurations.push({
        configurationName: t.configurationName,
        tag,
        percent: t.percent,
        revisions: [{ revisionName: t.revisionName, percent: t.percent }],
        stepParams: { ...NO_PARAMS },
      });
    }
  }
  return { configurations: configurations.sort(byTagThenName) };
}

/** True when no configuration has more than one revision receiving traffic. */
export function rolloutDone(rollout: Rollout): boolean {
  return rollout.configurations.every((c) => c.revisions.length < 2);
}

function copyConfig(c: ConfigurationRollout): ConfigurationRollout {
  return {
    ...c,
    revisions: c.revisions.map((r) => ({ ...r })),
    stepParams: { ...c.stepParams },
  };
}

/**
 * Moves a configuration's total to `goal`: a rise goes to the newest revision, a cut comes out of
 * the oldest ones first, dropping those it empties.
 */
function adjustPercentage(goal: number, c: ConfigurationRollout): void {
  const diff = goal - c.percent;
  if (goal === 0) {
    c.revisions = [];
  } else if (diff > 0) {
    const newest = c.revisions[c.revisions.length - 1];
    if (newest !== undefined) newest.percent += diff;
  } else if (diff < 0) {
    let cut = -diff;
    let i = 0;
    for (; cut > 0 && i < c.revisions.length; i++) {
      const r = c.revisions[i];
      if (r === undefined) break;
      if (r.percent > cut) {
        r.percent -= cut;
        break;
      }
      cut -= r.percent;
    }
    c.revisions = c.revisions.slice(i);
  }
}

/**
 * One step, if due: stepSize comes out of the revisions before the newest (the most recent first),
 * the ones emptied drop out, and the newest gains it, capped at the configuration's total.
 */
function stepRevisions(c: ConfigurationRollout, now: number): void {
  const revs = c.revisions;
  if (now < c.stepParams.nextStepTime || revs.length < 2) return;
  const newest = revs[revs.length - 1];
  if (newest === undefined) return;
  let remaining = c.stepParams.stepSize;
  let write = revs.length - 1;
  for (let read = revs.length - 2; remaining > 0 && read >= 0; read--, write--) {
    const r = revs[read];
    if (r === undefined) break;
    if (r.percent > remaining) {
      r.percent -= remaining;
      break;
    }
    remaining -= r.percent;
  }
  const moved = { ...newest, percent: Math.min(newest.percent + c.stepParams.stepSize, c.percent) };
  c.revisions = [...revs.slice(0, write), moved];
  if (c.revisions.length > 1) c.stepParams.nextStepTime = now + c.stepParams.stepDuration;
  else c.stepParams = { ...NO_PARAMS };
}

/** Merges one configuration's goal with its previous state. Knative's stepConfig. */
function stepConfig(
  goal: ConfigurationRollout,
  previous: ConfigurationRollout,
  now: number,
): ConfigurationRollout {
  const prev = copyConfig(previous);
  const ret: ConfigurationRollout = { ...copyConfig(goal), stepParams: { ...NO_PARAMS } };
  if (prev.revisions.length > 0) adjustPercentage(goal.percent, prev);
  const target = goal.revisions[0];
  const newest = prev.revisions[prev.revisions.length - 1];
  if (target === undefined || newest === undefined || target.revisionName === newest.revisionName) {
    // No new revision: keep rolling what is under way, if anything.
    if (prev.revisions.length > 1) {
      ret.revisions = prev.revisions;
      ret.stepParams = prev.stepParams;
      // Parameters not computed yet (readiness not observed): hold still.
      if (ret.stepParams.stepSize > 0) stepRevisions(ret, now);
    }
    return ret;
  }
  // A new revision: it takes 1% from the newest revision that has any.
  ret.stepParams.starttime = now;
  for (let i = prev.revisions.length - 1; i >= 0; i--) {
    const r = prev.revisions[i];
    if (r !== undefined && r.percent > 0) {
      r.percent--;
      break;
    }
  }
  ret.revisions = [
    ...prev.revisions.filter((r) => r.percent !== 0),
    { revisionName: target.revisionName, percent: 1 },
  ];
  return ret;
}

/** Merges the desired steady state with the previous rollout. Knative's Rollout.Step. */
function step(desired: Rollout, previous: Rollout | undefined, now: number): Rollout {
  if (previous === undefined || previous.configurations.length === 0) {
    return { configurations: desired.configurations.map(copyConfig) };
  }
  const out: ConfigurationRollout[] = [];
  const tags = new Set(desired.configurations.map((c) => c.tag));
  for (const tag of tags) {
    const cur = desired.configurations.filter((c) => c.tag === tag).sort(byTagThenName);
    const prev = previous.configurations.filter((c) => c.tag === tag).sort(byTagThenName);
    // Both lists are sorted by name; walk them together.
    let j = 0;
    for (const c of cur) {
      while (j < prev.length && (prev[j]?.configurationName ?? '') < c.configurationName) j++;
      const p = prev[j];
      if (p === undefined || p.configurationName !== c.configurationName) {
        // New here: nothing to roll from.
        if (c.percent !== 0) out.push(copyConfig(c));
        continue;
      }
      j++;
      // At 1% there is nothing to roll out gradually; at 0% nothing to route.
      if (c.percent > 1) out.push(stepConfig(c, p, now));
      else if (c.percent === 1) out.push(copyConfig(c));
    }
  }
  return { configurations: out.sort(byTagThenName) };
}

/**
 * Computes step parameters for rollouts that started but have none yet. Knative's
 * ObserveReady/computeProperties, with times in ms.
 */
function observeReady(rollout: Rollout, now: number, durationSeconds: number): void {
  for (const c of rollout.configurations) {
    const p = c.stepParams;
    if (p.stepDuration !== 0 || p.starttime <= 0) continue;
    const minStep = Math.max(1, Math.ceil((now - p.starttime) / 1000));
    // The first 1% already took minStep of the allotted time.
    const duration = Math.max(1, durationSeconds - minStep);
    const remaining = c.percent - 1;
    if (remaining < 1) continue;
    // Never more steps than percents left, since the smallest step is 1%.
    const steps = Math.min(Math.max(1, duration / minStep), remaining);
    // Rounding (not truncating) keeps e.g. 100% in 4 steps at 1 -> 26 -> 51 -> 76 -> 100.
    const stepDuration = (duration / steps) * 1000;
    p.stepSize = Math.round(remaining / steps);
    p.stepDuration = Math.trunc(stepDuration);
    p.nextStepTime = Math.trunc(now + stepDuration);
  }
}

export interface RolloutStep {
  rollout: Rollout;
  /** When to reconcile again for the next step (ms); absent when nothing is scheduled. */
  nextStepAt?: number;
  /** A configuration still splits its traffic between revisions. */
  inProgress: boolean;
}

/**
 * Advances the rollout to `now`. `desired` is buildRollout(resolved traffic); `previous` is the
 * stored state (parseRollout). A duration of 0 turns gradual rollout off: traffic jumps straight to
 * the desired state.
 */
export function stepRollout(
  previous: Rollout | undefined,
  desired: Rollout,
  durationSeconds: number,
  now: number,
): RolloutStep {
  if (durationSeconds <= 0) {
    return { rollout: { configurations: desired.configurations.map(copyConfig) }, inProgress: false };
  }
  let prev: Rollout | undefined;
  if (previous !== undefined) {
    prev = { configurations: previous.configurations.map(copyConfig) };
    // State stored before readiness was observed (as Knative would leave it).
    observeReady(prev, now, durationSeconds);
  }
  const rollout = step(desired, prev, now);
  observeReady(rollout, now, durationSeconds);
  let nextStepAt: number | undefined;
  for (const c of rollout.configurations) {
    const t = c.stepParams.nextStepTime;
    if (c.revisions.length > 1 && t > 0 && (nextStepAt === undefined || t < nextStepAt)) nextStepAt = t;
  }
  return {
    rollout,
    ...(nextStepAt !== undefined ? { nextStepAt } : {}),
    inProgress: !rolloutDone(rollout),
  };
}

function rolloutFor(rollout: Rollout, tag: string, target: ResolvedTarget): ConfigurationRollout | undefined {
  if (!target.latestRevision || target.configurationName === undefined) return undefined;
  const c = rollout.configurations.find(
    (r) => r.tag === tag && r.configurationName === target.configurationName,
  );
  return c !== undefined && c.revisions.length > 1 ? c : undefined;
}

function expand(target: ResolvedTarget, c: ConfigurationRollout | undefined): ResolvedTarget[] {
  if (c === undefined) return [target];
  return c.revisions.map((r) => ({ ...target, revisionName: r.revisionName, percent: r.percent }));
}

/**
 * The traffic the rollout dictates: each target that follows a configuration under rollout is
 * split into that rollout's revisions. Groups (what each host serves) use the host's own rollout.
 * Status targets look up the rollout by the target's tag, as Knative's GetRevisionTrafficTargets
 * does, so a tagged target shows its tag host's split. `revisions` gains the older revisions still
 * receiving traffic, so they stay routed (active) until the rollout drains them.
 */
export function trafficFromRollout(resolved: ResolvedTraffic, rollout: Rollout): ResolvedTraffic {
  const targets = resolved.targets.flatMap((t) => expand(t, rolloutFor(rollout, t.tag ?? DEFAULT_TARGET, t)));
  const groups = new Map<string, ResolvedTarget[]>();
  for (const [tag, group] of resolved.groups) {
    groups.set(
      tag,
      group.flatMap((t) => (t.percent === 0 ? [{ ...t }] : expand(t, rolloutFor(rollout, tag, t)))),
    );
  }
  const revisions = new Set(resolved.revisions);
  for (const group of groups.values()) for (const t of group) revisions.add(t.revisionName);
  for (const t of targets) revisions.add(t.revisionName);
  return {
    ok: true,
    targets,
    groups,
    byTag: new Map(resolved.byTag),
    revisions: [...revisions].sort(),
    configurations: [...resolved.configurations],
  };
}
