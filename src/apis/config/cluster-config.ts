// The cluster's Knative ConfigMaps, parsed together. The webhook, the controller and
// `ebb validate` all decide with one ClusterConfig, so they cannot disagree.
import type { FieldError } from '../field-error.ts';
import { parseAutoscalerConfig, type AutoscalerConfig } from './autoscaler.ts';
import type { ConfigData, ConfigReader } from './configmap-data.ts';
import { parseDefaultsConfig, type DefaultsConfig } from './defaults.ts';
import { parseDeploymentConfig, type DeploymentConfig } from './deployment.ts';
import { parseDomainConfig, type DomainConfig } from './domain.ts';
import { parseFeaturesConfig, type FeaturesConfig } from './features.ts';
import { parseGCConfig, type GCConfig } from './gc.ts';
import { parseNetworkConfig, type NetworkConfig } from './network.ts';

export interface ClusterConfig {
  autoscaler: AutoscalerConfig;
  defaults: DefaultsConfig;
  deployment: DeploymentConfig;
  domain: DomainConfig;
  features: FeaturesConfig;
  gc: GCConfig;
  network: NetworkConfig;
}

type Parsed<T> = { config: T; errors: FieldError[] };

/** ConfigMap name → its field in ClusterConfig and its parser. */
export const CONFIG_MAPS = {
  'config-autoscaler': { field: 'autoscaler', parse: parseAutoscalerConfig },
  'config-defaults': { field: 'defaults', parse: parseDefaultsConfig },
  'config-deployment': { field: 'deployment', parse: parseDeploymentConfig },
  'config-domain': { field: 'domain', parse: (d: ConfigData | ConfigReader) => parseDomainConfig(d) },
  'config-features': { field: 'features', parse: parseFeaturesConfig },
  'config-gc': { field: 'gc', parse: parseGCConfig },
  'config-network': { field: 'network', parse: parseNetworkConfig },
} as const satisfies Record<
  string,
  { field: keyof ClusterConfig; parse: (d: ConfigData | ConfigReader) => Parsed<unknown> }
>;

export type ConfigMapName = keyof typeof CONFIG_MAPS;

export function isConfigMapName(name: string): name is ConfigMapName {
  return Object.hasOwn(CONFIG_MAPS, name);
}

export function parseConfigMap(name: ConfigMapName, data: ConfigData): FieldError[] {
  return CONFIG_MAPS[name].parse(data).errors;
}

export function defaultClusterConfig(): ClusterConfig {
  return {
    autoscaler: parseAutoscalerConfig({}).config,
    defaults: parseDefaultsConfig({}).config,
    deployment: parseDeploymentConfig({}).config,
    domain: parseDomainConfig({}).config,
    features: parseFeaturesConfig({}).config,
    gc: parseGCConfig({}).config,
    network: parseNetworkConfig({}).config,
  };
}

interface ConfigMapLike {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown };
  data?: unknown;
}

/** A v1 ConfigMap with one of Knative's names, and its string data. */
export function asKnativeConfigMap(value: unknown): { name: ConfigMapName; data: ConfigData } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const cm = value as ConfigMapLike;
  if (cm.apiVersion !== 'v1' || cm.kind !== 'ConfigMap') return undefined;
  const name = cm.metadata?.name;
  if (typeof name !== 'string' || !isConfigMapName(name)) return undefined;
  const data: Record<string, string> = {};
  if (typeof cm.data === 'object' && cm.data !== null) {
    for (const [k, v] of Object.entries(cm.data)) data[k] = typeof v === 'string' ? v : String(v);
  }
  return { name, data };
}

/**
 * Builds the ClusterConfig from whatever Knative ConfigMaps are among `objects`; the others keep
 * Knative's defaults. A ConfigMap that does not parse keeps the defaults and is reported.
 */
export function loadClusterConfig(objects: readonly unknown[]): {
  config: ClusterConfig;
  errors: { name: ConfigMapName; message: string }[];
} {
  const config = defaultClusterConfig();
  const errors: { name: ConfigMapName; message: string }[] = [];
  const target = config as unknown as Record<string, unknown>;
  for (const object of objects) {
    const cm = asKnativeConfigMap(object);
    if (cm === undefined) continue;
    const entry = CONFIG_MAPS[cm.name];
    const parsed = entry.parse(cm.data);
    if (parsed.errors.length > 0) {
      for (const e of parsed.errors)
        errors.push({ name: cm.name, message: `${e.paths.join(', ')}: ${e.message}` });
      continue;
    }
    target[entry.field] = parsed.config;
  }
  return { config, errors };
}

/** loadClusterConfig from ConfigMap name → data, e.g. `{ 'config-features': { ... } }`. */
export function clusterConfigFromData(
  maps: Readonly<Record<string, ConfigData>>,
): ReturnType<typeof loadClusterConfig> {
  return loadClusterConfig(
    Object.entries(maps).map(([name, data]) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name },
      data,
    })),
  );
}

/**
 * The configuration in force after a ConfigMap change: the ConfigMap replaces its part of
 * `current` if it parses as a whole; if it does not, `current` stays and `rejected` says why.
 * `data` undefined means the ConfigMap was deleted, which restores Knative's defaults for it.
 * Objects that are not one of Knative's ConfigMaps change nothing.
 */
export function applyConfigMapChange(
  current: ClusterConfig,
  name: string,
  data: ConfigData | undefined,
): { config: ClusterConfig; changed: boolean; rejected?: string } {
  if (!isConfigMapName(name)) return { config: current, changed: false };
  const entry = CONFIG_MAPS[name];
  const parsed = entry.parse(data ?? {});
  if (data !== undefined && parsed.errors.length > 0) {
    const rejected = parsed.errors.map((e) => `${e.paths.join(', ')}: ${e.message}`).join('; ');
    return { config: current, changed: false, rejected };
  }
  return { config: { ...current, [entry.field]: parsed.config }, changed: true };
}
