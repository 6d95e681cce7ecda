// The Configuration's status from its Revisions (Knative's configuration reconciler): the latest
// created Revision decides Ready, and latestReadyRevisionName moves to the newest ready Revision.
import { LABELS } from '../../apis/serving/register.ts';
import { READY } from '../../apis/serving/v1/conditions.ts';
import {
  CONFIGURATION_CONDITIONS,
  markLatestCreatedFailed,
  markLatestReadyDeleted,
  markRevisionCreationFailed,
} from '../../apis/serving/v1/configuration-lifecycle.ts';
import type { Configuration, ConfigurationStatus } from '../../apis/serving/v1/configuration-types.ts';
import type { Revision } from '../../apis/serving/v1/revision-types.ts';

export interface ConfigurationObservation {
  /** The Revision for the current generation, if it exists and is ours. */
  latestCreated?: Revision;
  /** Why the Revision for the current generation could not be created. */
  creationFailure?: string;
  /** Every Revision of this Configuration. */
  revisions: readonly Revision[];
}

export type ConfigurationEvent =
  | { type: 'Normal'; reason: 'ConfigurationReady'; message: string }
  | { type: 'Normal'; reason: 'LatestReadyUpdate'; message: string }
  | { type: 'Warning'; reason: 'LatestCreatedFailed'; message: string }
  | { type: 'Warning'; reason: 'LatestReadyFailed'; message: string };

function readyOf(rev: Revision): string {
  if (rev.status?.observedGeneration !== rev.metadata.generation) return 'Unknown';
  return rev.status?.conditions?.find((c) => c.type === READY)?.status ?? 'Unknown';
}

function generationOf(rev: Revision): number {
  return Number(rev.metadata.labels?.[LABELS.configurationGeneration] ?? '0');
}

export function configurationStatus(
  cfg: Configuration,
  seen: ConfigurationObservation,
  now: Date,
): { status: ConfigurationStatus; events: ConfigurationEvent[] } {
  const old = cfg.status ?? {};
  const m = CONFIGURATION_CONDITIONS.manage(old.conditions, now);
  m.initialize();
  const events: ConfigurationEvent[] = [];
  const status: ConfigurationStatus = {};
  if (old.latestReadyRevisionName !== undefined) status.latestReadyRevisionName = old.latestReadyRevisionName;
  if (old.latestCreatedRevisionName !== undefined)
    status.latestCreatedRevisionName = old.latestCreatedRevisionName;

  if (seen.creationFailure !== undefined) {
    // Knative stops here: the Configuration cannot reach its spec, whatever else is ready.
    markRevisionCreationFailed(m, seen.creationFailure);
    status.conditions = m.conditions();
    return { status, events };
  }
  const lcr = seen.latestCreated;
  if (lcr !== undefined) {
    const name = lcr.metadata.name ?? '';
    status.latestCreatedRevisionName = name;
    if (status.latestReadyRevisionName !== name) m.markUnknown(READY, '', '');
    const ready = readyOf(lcr);
    if (ready === 'True' && (old.latestReadyRevisionName ?? '') === '')
      events.push({ type: 'Normal', reason: 'ConfigurationReady', message: 'Configuration becomes ready' });
    if (ready === 'False') {
      const before = m.get(READY);
      const message = lcr.status?.conditions?.find((c) => c.type === READY)?.message ?? '';
      markLatestCreatedFailed(m, name, message);
      if (before?.status !== 'False' || before.message !== m.get(READY)?.message)
        events.push(
          name === status.latestReadyRevisionName
            ? {
                type: 'Warning',
                reason: 'LatestReadyFailed',
                message: `Latest ready revision ${JSON.stringify(name)} has failed`,
              }
            : {
                type: 'Warning',
                reason: 'LatestCreatedFailed',
                message: `Latest created revision ${JSON.stringify(name)} has failed`,
              },
        );
    }
  }

  // The newest ready Revision, never older than the current latest ready one; a bring-your-own
  // latest created Revision comes first whatever its generation (a "git revert" to an old name).
  const oldReady = status.latestReadyRevisionName;
  const current = seen.revisions.find((r) => r.metadata.name === oldReady);
  const from = current === undefined ? 0 : generationOf(current);
  const to = cfg.metadata.generation ?? 0;
  const candidates = seen.revisions
    .filter((r) => r !== lcr && generationOf(r) >= from && generationOf(r) <= to)
    .sort((a, b) => generationOf(b) - generationOf(a));
  if (lcr !== undefined) candidates.unshift(lcr);
  const ready = candidates.find((r) => readyOf(r) === 'True');
  if (ready !== undefined) {
    const name = ready.metadata.name ?? '';
    if (name !== oldReady)
      events.push({
        type: 'Normal',
        reason: 'LatestReadyUpdate',
        message: `LatestReadyRevisionName updated to ${JSON.stringify(name)}`,
      });
    status.latestReadyRevisionName = name;
    if (name === status.latestCreatedRevisionName) m.markTrue(READY);
  } else if (oldReady !== undefined && oldReady !== '' && current === undefined) {
    markLatestReadyDeleted(m, oldReady);
  }
  status.conditions = m.conditions();
  return { status, events };
}
