// Decides which of one Configuration's Revisions the garbage collector deletes, after Knative's
// revision GC (pkg/reconciler/gc, the "v2" collector). Pure: the caller lists the revisions from
// its cache and issues the deletes; `now` comes in so the same world always gives the same answer.
import { DISABLED, type GCConfig } from '../../apis/config/gc.ts';
import { ANNOTATIONS, LABELS } from '../../apis/serving/register.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';

/** The routing state the labeler gives a revision no route references any more. */
export const ROUTING_STATE_RESERVE = 'reserve';

export interface GCInput {
  configuration: { latestCreatedRevisionName?: string; latestReadyRevisionName?: string };
  /** The revisions of this one configuration. Only their metadata is read. */
  revisions: readonly Pick<Revision, 'metadata'>[];
  gc: GCConfig;
  now: Date;
}

/** A revision to delete, with a sentence saying why. */
export interface Collected {
  name: string;
  reason: string;
}

/** A revision that may be collected: not routed, not pinned, not the configuration's latest. */
interface Candidate {
  name: string;
  createdMs: number;
  lastActiveMs: number;
}

/**
 * The revisions to delete, oldest (by last active time) first.
 *
 * Only non-active revisions count: those the labeler moved to `reserve`. Among them, stale ones
 * (older than every enabled retain-since-* limit) go first, oldest first, while more than
 * min-non-active-revisions remain. If the revisions still kept outnumber max-non-active-revisions,
 * the oldest of those go too, stale or not.
 */
export function revisionsToCollect(input: GCInput): Collected[] {
  const { gc } = input;
  const nowMs = input.now.getTime();
  const timeLimitsOff =
    gc.retainSinceCreateTimeMs === DISABLED && gc.retainSinceLastActiveTimeMs === DISABLED;
  if (timeLimitsOff && gc.maxNonActiveRevisions === DISABLED) return [];

  const candidates: Candidate[] = [];
  for (const rev of input.revisions) {
    const candidate = asCandidate(rev, input.configuration);
    if (candidate !== undefined) candidates.push(candidate);
  }
  // min-non-active-revisions is a floor for both passes (validation keeps it <= max).
  if (candidates.length <= gc.minNonActiveRevisions) return [];
  candidates.sort(oldestFirst);

  const reasons = new Map<string, string>();
  const deletable = candidates.length - gc.minNonActiveRevisions;
  for (const candidate of candidates) {
    const reason = staleReason(candidate, gc, nowMs);
    if (reason !== undefined) reasons.set(candidate.name, reason);
    if (reasons.size === deletable) return inAgeOrder(candidates, reasons); // down to the floor
  }

  const kept = candidates.filter((c) => !reasons.has(c.name));
  if (gc.maxNonActiveRevisions !== DISABLED && kept.length > gc.maxNonActiveRevisions) {
    for (const candidate of kept.slice(0, kept.length - gc.maxNonActiveRevisions)) {
      reasons.set(
        candidate.name,
        `over max-non-active-revisions=${gc.maxNonActiveRevisions}, last active ${ago(nowMs - candidate.lastActiveMs)} ago`,
      );
    }
  }

  return inAgeOrder(candidates, reasons);
}

function inAgeOrder(sorted: readonly Candidate[], reasons: ReadonlyMap<string, string>): Collected[] {
  return sorted.flatMap((c) => {
    const reason = reasons.get(c.name);
    return reason === undefined ? [] : [{ name: c.name, reason }];
  });
}

/**
 * The revision as a GC candidate, or undefined when it must be kept whatever the limits say.
 * Knative keeps anything the labeler has not explicitly moved to `reserve`: `active`, but also
 * `pending` (created, routing not yet decided) and a missing label. It protects only the latest
 * ready revision by name; ebb also protects the latest created one, which a failing rollout can
 * leave unrouted. A revision whose age cannot be read is kept rather than guessed at.
 */
function asCandidate(
  rev: Pick<Revision, 'metadata'>,
  configuration: GCInput['configuration'],
): Candidate | undefined {
  const { name, labels, annotations, creationTimestamp } = rev.metadata;
  if (name === undefined || name === '') return undefined;
  if (name === configuration.latestReadyRevisionName || name === configuration.latestCreatedRevisionName)
    return undefined;
  if (annotations?.[ANNOTATIONS.noGC]?.toLowerCase() === 'true') return undefined;
  if (labels?.[LABELS.routingState] !== ROUTING_STATE_RESERVE) return undefined;
  const createdMs = parseRFC3339(creationTimestamp);
  if (createdMs === undefined) return undefined;
  // The labeler stamps routingStateModified when the revision left its last route.
  const lastActiveMs = parseRFC3339(annotations?.[ANNOTATIONS.routingStateModified]) ?? createdMs;
  return { name, createdMs, lastActiveMs };
}

/** Stale means past every enabled retention limit; a limit exactly reached counts as passed. */
function staleReason(candidate: Candidate, gc: GCConfig, nowMs: number): string | undefined {
  const sinceCreate = gc.retainSinceCreateTimeMs;
  const sinceActive = gc.retainSinceLastActiveTimeMs;
  if (sinceCreate === DISABLED && sinceActive === DISABLED) return undefined;
  const createdAgo = nowMs - candidate.createdMs;
  const activeAgo = nowMs - candidate.lastActiveMs;
  if (sinceCreate !== DISABLED && createdAgo < sinceCreate) return undefined;
  if (sinceActive !== DISABLED && activeAgo < sinceActive) return undefined;
  return `stale: created ${ago(createdAgo)} ago, last active ${ago(activeAgo)} ago`;
}

/** Least recently active first; creation time, then name, break ties so the order is total. */
function oldestFirst(a: Candidate, b: Candidate): number {
  if (a.lastActiveMs !== b.lastActiveMs) return a.lastActiveMs - b.lastActiveMs;
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or undefined for a missing or malformed timestamp (as Go's zero time). */
function parseRFC3339(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A coarse age for messages: "49h", "49h30m", "15m", "42s". A future time reads as "0s". */
function ago(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return minutes > 0 ? `${hours}h${minutes}m` : `${hours}h`;
  if (minutes > 0) return seconds > 0 ? `${minutes}m${seconds}s` : `${minutes}m`;
  return `${seconds}s`;
}
