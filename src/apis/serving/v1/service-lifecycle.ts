// The Service's condition set and how the Configuration and Route statuses roll up into it, after
// Knative's service_lifecycle.go.
import type { Condition } from '../../meta/v1.ts';
import { ConditionSet, READY, type ConditionManager } from './conditions.ts';

export const CONFIGURATIONS_READY = 'ConfigurationsReady';
export const ROUTES_READY = 'RoutesReady';

export const SERVICE_CONDITIONS = new ConditionSet([CONFIGURATIONS_READY, ROUTES_READY]);

export function markConfigurationNotOwned(m: ConditionManager, name: string): void {
  m.markFalse(
    CONFIGURATIONS_READY,
    'NotOwned',
    `There is an existing Configuration ${JSON.stringify(name)} that we do not own.`,
  );
}

export function markRouteNotOwned(m: ConditionManager, name: string): void {
  m.markFalse(
    ROUTES_READY,
    'NotOwned',
    `There is an existing Route ${JSON.stringify(name)} that we do not own.`,
  );
}

export function markConfigurationNotReconciled(m: ConditionManager): void {
  m.markUnknown(
    CONFIGURATIONS_READY,
    'OutOfDate',
    'The Configuration is still working to reflect the latest desired specification.',
  );
}

export function markRouteNotReconciled(m: ConditionManager): void {
  m.markUnknown(
    ROUTES_READY,
    'OutOfDate',
    'The Route is still working to reflect the latest desired specification.',
  );
}

export function markRevisionNameTaken(m: ConditionManager, name: string): void {
  m.markFalse(
    ROUTES_READY,
    'RevisionNameTaken',
    `The revision name ${JSON.stringify(name)} is taken by a conflicting Revision, so traffic will not be migrated`,
  );
}

export function markRouteNotYetReady(m: ConditionManager): void {
  m.markUnknown(ROUTES_READY, 'TrafficNotMigrated', 'Traffic is not yet migrated to the latest revision.');
}

/** Copies a child's Ready condition onto the Service's matching dependent. */
export function propagateReady(
  m: ConditionManager,
  type: string,
  childConditions: readonly Condition[] | undefined,
): void {
  const ready = childConditions?.find((c) => c.type === READY);
  if (ready === undefined) return;
  if (ready.status === 'True') m.markTrue(type);
  else if (ready.status === 'False') m.markFalse(type, ready.reason ?? '', ready.message ?? '');
  else m.markUnknown(type, ready.reason ?? '', ready.message ?? '');
}
