// config-features: feature flags, chiefly which PodSpec fields a Revision may set.
import type { FieldError } from '../field-error.ts';
import { ConfigReader, type ConfigData } from './configmap-data.ts';

export type Flag = 'Enabled' | 'Disabled' | 'Allowed';
const FLAG_VALUES: readonly Flag[] = ['Enabled', 'Disabled', 'Allowed'];

/** Every flag and its default; PodSpec gates are "kubernetes.podspec-*" / "kubernetes.containerspec-*". */
export const FEATURE_DEFAULTS = {
  'multi-container': 'Enabled',
  'multi-container-probing': 'Disabled',
  'kubernetes.podspec-affinity': 'Disabled',
  'kubernetes.podspec-topologyspreadconstraints': 'Disabled',
  'kubernetes.podspec-hostaliases': 'Disabled',
  'kubernetes.podspec-fieldref': 'Disabled',
  'kubernetes.podspec-nodeselector': 'Disabled',
  'kubernetes.podspec-runtimeclassname': 'Disabled',
  'kubernetes.podspec-securitycontext': 'Disabled',
  'kubernetes.podspec-shareprocessnamespace': 'Disabled',
  'kubernetes.podspec-hostipc': 'Disabled',
  'kubernetes.podspec-hostpid': 'Disabled',
  'kubernetes.podspec-hostnetwork': 'Disabled',
  'kubernetes.podspec-priorityclassname': 'Disabled',
  'kubernetes.podspec-schedulername': 'Disabled',
  'kubernetes.podspec-tolerations': 'Disabled',
  'kubernetes.podspec-init-containers': 'Disabled',
  'kubernetes.podspec-dnspolicy': 'Disabled',
  'kubernetes.podspec-dnsconfig': 'Disabled',
  'kubernetes.podspec-persistent-volume-claim': 'Disabled',
  'kubernetes.podspec-persistent-volume-write': 'Disabled',
  'kubernetes.podspec-volumes-emptydir': 'Enabled',
  'kubernetes.podspec-volumes-hostpath': 'Disabled',
  'kubernetes.podspec-volumes-csi': 'Disabled',
  'kubernetes.podspec-volumes-ephemeral': 'Disabled',
  'kubernetes.podspec-volumes-image': 'Disabled',
  'kubernetes.podspec-volumes-mount-propagation': 'Disabled',
  'kubernetes.containerspec-addcapabilities': 'Disabled',
  'queueproxy.mount-podinfo': 'Disabled',
  'queueproxy.resource-defaults': 'Disabled',
  'tag-header-based-routing': 'Disabled',
  'autodetect-http2': 'Disabled',
} as const satisfies Record<string, Flag>;

export type FeatureName = keyof typeof FEATURE_DEFAULTS;
export type SecurePodDefaults = 'Disabled' | 'AllowRootBounded' | 'Enabled';

export interface FeaturesConfig {
  flags: Record<FeatureName, Flag>;
  securePodDefaults: SecurePodDefaults;
}

export function defaultFeaturesConfig(): FeaturesConfig {
  return parseFeaturesConfig({}).config;
}

export function parseFeaturesConfig(data: ConfigData | ConfigReader): {
  config: FeaturesConfig;
  errors: FieldError[];
} {
  const r = ConfigReader.of(data);
  const flags = {} as Record<FeatureName, Flag>;
  for (const [name, fallback] of Object.entries(FEATURE_DEFAULTS) as [FeatureName, Flag][]) {
    flags[name] = r.flag(name, FLAG_VALUES, fallback);
  }
  const securePodDefaults = r.flag<SecurePodDefaults>(
    'secure-pod-defaults',
    ['Disabled', 'AllowRootBounded', 'Enabled'],
    'Disabled',
  );
  return { config: { flags, securePodDefaults }, errors: r.errors };
}

/** A gated field may be set unless its flag is Disabled ("Allowed" lets users opt in). */
export function featureAllows(config: FeaturesConfig, name: FeatureName): boolean {
  return config.flags[name] !== 'Disabled';
}
