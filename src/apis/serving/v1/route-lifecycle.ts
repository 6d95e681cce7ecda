// The Route's condition set, after Knative's route_lifecycle.go. ebb has no Ingress object: its
// gateway programs itself from Routes, so IngressReady means the placeholder Services exist and are
// the Route's, and no rollout is in progress; certificates are not provisioned (auto-TLS is not
// implemented).
import { ConditionSet, type ConditionManager } from './conditions.ts';

export const ALL_TRAFFIC_ASSIGNED = 'AllTrafficAssigned';
export const INGRESS_READY = 'IngressReady';
export const CERTIFICATE_PROVISIONED = 'CertificateProvisioned';

export const ROUTE_CONDITIONS = new ConditionSet([
  ALL_TRAFFIC_ASSIGNED,
  INGRESS_READY,
  CERTIFICATE_PROVISIONED,
]);

export const REASON_ROLLOUT_IN_PROGRESS = 'RolloutInProgress';
export const ROLLOUT_IN_PROGRESS_MESSAGE = 'A gradual rollout of the latest revision(s) is in progress.';
export const REASON_TLS_NOT_ENABLED = 'TLSNotEnabled';
export const TLS_NOT_ENABLED_MESSAGE = 'autoTLS is not enabled';
export const REASON_NOT_OWNED = 'NotOwned';

/** Knative's MarkServiceNotOwned: a placeholder Service of the wanted name belongs to someone else. */
export function markServiceNotOwned(m: ConditionManager, name: string): void {
  m.markFalse(
    INGRESS_READY,
    REASON_NOT_OWNED,
    `There is an existing placeholder Service ${JSON.stringify(name)} that we do not own.`,
  );
}
