// The Route's condition set, after Knative's route_lifecycle.go. ebb has no Ingress object: its
// gateway programs itself from Routes, so IngressReady means the placeholder Services exist and no
// rollout is in progress; certificates are not provisioned (auto-TLS is not implemented).
import { ConditionSet } from './conditions.ts';

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
