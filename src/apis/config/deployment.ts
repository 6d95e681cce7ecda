// config-deployment: how a Revision's Deployment is built. ebb has no queue-proxy sidecar, so the
// queue-sidecar-* keys are accepted for compatibility with Knative's ConfigMap and ignored.
import { parse as parseYaml } from 'yaml';
import { generic, type FieldError } from '../field-error.ts';
import { ConfigReader, dataPath, type ConfigData } from './configmap-data.ts';
import { formatGoDuration, isWholeSeconds } from './go-duration.ts';

export type AffinityType = 'none' | 'prefer-spread-revision-over-nodes';

export interface DeploymentConfig {
  progressDeadlineMs: number;
  digestResolutionTimeoutMs: number;
  registriesSkippingTagResolving: string[];
  podIsAlwaysSchedulable: boolean;
  defaultAffinityType: AffinityType;
  runtimeClassNames: Record<string, { selector?: Record<string, string> }>;
}

export function defaultDeploymentConfig(): DeploymentConfig {
  return parseDeploymentConfig({}).config;
}

export function parseDeploymentConfig(data: ConfigData | ConfigReader): {
  config: DeploymentConfig;
  errors: FieldError[];
} {
  const r = ConfigReader.of(data);
  const registries = r.string(
    r.alias('registries-skipping-tag-resolving', 'registriesSkippingTagResolving'),
    'kind.local,ko.local,dev.local',
    'comma-separated list',
  );
  const affinity = r.string(
    'default-affinity-type',
    'prefer-spread-revision-over-nodes',
    'none or prefer-spread-revision-over-nodes',
  );
  const config: DeploymentConfig = {
    progressDeadlineMs: r.duration(r.alias('progress-deadline', 'progressDeadline'), 600_000),
    digestResolutionTimeoutMs: r.duration(
      r.alias('digest-resolution-timeout', 'digestResolutionTimeout'),
      10_000,
    ),
    registriesSkippingTagResolving: registries.split(','),
    podIsAlwaysSchedulable: r.bool('pod-is-always-schedulable', false),
    defaultAffinityType: affinity === 'none' ? 'none' : 'prefer-spread-revision-over-nodes',
    runtimeClassNames: {},
  };
  for (const suffix of ['cpu', 'memory', 'ephemeral-storage']) {
    r.quantity(`queue-sidecar-${suffix}-request`);
    r.quantity(`queue-sidecar-${suffix}-limit`);
  }
  const errors = r.errors;
  const d = formatGoDuration;
  if (config.progressDeadlineMs <= 0) {
    errors.push(
      generic(
        `progress-deadline cannot be a non-positive duration, was ${d(config.progressDeadlineMs)}`,
        dataPath('progress-deadline'),
      ),
    );
  } else if (!isWholeSeconds(config.progressDeadlineMs)) {
    errors.push(
      generic(
        `progress-deadline must be rounded to a whole second, was: ${d(config.progressDeadlineMs)}`,
        dataPath('progress-deadline'),
      ),
    );
  }
  if (config.digestResolutionTimeoutMs <= 0) {
    errors.push(
      generic(
        `digest-resolution-timeout cannot be a non-positive duration, was ${d(config.digestResolutionTimeoutMs)}`,
        dataPath('digest-resolution-timeout'),
      ),
    );
  }
  if (affinity !== 'none' && affinity !== 'prefer-spread-revision-over-nodes') {
    errors.push(
      generic(
        `unsupported default-affinity-type value: ${JSON.stringify(affinity)}`,
        dataPath('default-affinity-type'),
      ),
    );
  }
  const classes = r.lookup('runtime-class-name', 'YAML');
  if (classes !== undefined) {
    try {
      const parsed: unknown = parseYaml(classes);
      if (parsed !== null && typeof parsed === 'object') {
        config.runtimeClassNames = parsed as DeploymentConfig['runtimeClassNames'];
      }
    } catch (error) {
      errors.push(
        generic(
          `runtime-class-name cannot be parsed, please check the format: ${(error as Error).message.split('\n')[0] ?? ''}`,
          dataPath('runtime-class-name'),
        ),
      );
    }
  }
  return { config, errors };
}
