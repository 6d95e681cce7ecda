// The Configuration's condition set (Ready alone) and its transitions, after Knative's
// configuration_lifecycle.go: Ready follows the latest created Revision.
import { ConditionSet, READY, type ConditionManager } from './conditions.ts';

export const CONFIGURATION_CONDITIONS = new ConditionSet([]);

export const REASON_REVISION_FAILED = 'RevisionFailed';
export const REASON_REVISION_DELETED = 'RevisionDeleted';

export function markLatestCreatedFailed(m: ConditionManager, name: string, message: string): void {
  m.markFalse(
    READY,
    REASON_REVISION_FAILED,
    `Revision ${JSON.stringify(name)} failed with message: ${message}.`,
  );
}

export function markRevisionCreationFailed(m: ConditionManager, message: string): void {
  m.markFalse(READY, REASON_REVISION_FAILED, `Revision creation failed with message: ${message}.`);
}

export function markLatestReadyDeleted(m: ConditionManager, name: string): void {
  m.markFalse(READY, REASON_REVISION_DELETED, `Revision ${JSON.stringify(name)} was deleted.`);
}
