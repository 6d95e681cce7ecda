// The PodAutoscaler's condition set. Knative's also has SKSReady; ebb has no ServerlessService
// (the gateway always fronts a revision), so Ready is Active and ScaleTargetInitialized.
import { ConditionSet } from '../../serving/v1/conditions.ts';

export const PA_ACTIVE = 'Active';
export const PA_SCALE_TARGET_INITIALIZED = 'ScaleTargetInitialized';

export const PODAUTOSCALER_CONDITIONS = new ConditionSet([PA_ACTIVE, PA_SCALE_TARGET_INITIALIZED]);

export const REASON_NO_TRAFFIC = 'NoTraffic';
export const NO_TRAFFIC_MESSAGE = 'The target is not receiving traffic.';
export const REASON_QUEUED = 'Queued';
export const QUEUED_MESSAGE = 'Requests to the target are being buffered as resources are provisioned.';
export const REASON_TIMED_OUT = 'TimedOut';
export const TIMED_OUT_MESSAGE = 'The target could not be activated.';
export const REASON_INITIALIZING = 'Initializing';
