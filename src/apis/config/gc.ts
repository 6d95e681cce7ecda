// config-gc: when old, unrouted revisions are deleted. -1 means "disabled".
import { generic, type FieldError } from '../field-error.ts';
import { ConfigReader, dataPath, type ConfigData } from './configmap-data.ts';
import { formatGoDuration, parseGoDuration } from './go-duration.ts';

export const DISABLED = -1;
const MAX_INT64 = 2n ** 63n - 1n;
const MAX_UINT64 = 2n ** 64n - 1n;

export interface GCConfig {
  retainSinceCreateTimeMs: number;
  retainSinceLastActiveTimeMs: number;
  minNonActiveRevisions: number;
  maxNonActiveRevisions: number;
}

export function defaultGCConfig(): GCConfig {
  return parseGCConfig({}).config;
}

function disabledOrDuration(r: ConfigReader, key: string, fallbackMs: number): number {
  const value = r.lookup(key, 'duration or "disabled"', formatGoDuration(fallbackMs));
  if (value === undefined || value === '') return fallbackMs;
  if (value.toLowerCase() === 'disabled') return DISABLED;
  const ms = parseGoDuration(value);
  if (ms === undefined) {
    r.fail(
      key,
      `failed to parse ${key}: time: invalid duration ${JSON.stringify(value)}`,
      'use a duration such as "48h", or "disabled"',
    );
    return fallbackMs;
  }
  if (ms < 0) {
    r.fail(key, `failed to parse ${key}: must be non-negative`);
    return fallbackMs;
  }
  return ms;
}

export function parseGCConfig(data: ConfigData | ConfigReader): { config: GCConfig; errors: FieldError[] } {
  const r = ConfigReader.of(data);
  const config: GCConfig = {
    retainSinceCreateTimeMs: disabledOrDuration(r, 'retain-since-create-time', 48 * 3_600_000),
    retainSinceLastActiveTimeMs: disabledOrDuration(r, 'retain-since-last-active-time', 15 * 3_600_000),
    minNonActiveRevisions: r.int('min-non-active-revisions', 20),
    maxNonActiveRevisions: 1000,
  };
  const max = r.lookup(
    'max-non-active-revisions',
    'integer or "disabled"',
    String(config.maxNonActiveRevisions),
  );
  if (max !== undefined && max !== '') {
    if (max.toLowerCase() === 'disabled') config.maxNonActiveRevisions = DISABLED;
    else if (/^\d+$/.test(max) && BigInt(max) > MAX_UINT64)
      r.fail(
        'max-non-active-revisions',
        `failed to parse max-non-active-revisions: strconv.ParseUint: parsing ${JSON.stringify(max)}: value out of range`,
      );
    else if (/^\d+$/.test(max) && BigInt(max) > MAX_INT64)
      r.fail(
        'max-non-active-revisions',
        `failed to parse max-non-active-revisions: value should be lower than ${MAX_INT64}`,
      );
    else if (/^\d+$/.test(max)) config.maxNonActiveRevisions = Number(max);
    else
      r.fail(
        'max-non-active-revisions',
        `failed to parse max-non-active-revisions: strconv.ParseUint: parsing ${JSON.stringify(max)}: invalid syntax`,
        'use a non-negative integer, or "disabled"',
      );
  }
  const errors = r.errors;
  if (config.minNonActiveRevisions < 0) {
    errors.push(
      generic(
        `min-non-active-revisions must be non-negative, was: ${config.minNonActiveRevisions}`,
        dataPath('min-non-active-revisions'),
      ),
    );
  }
  if (config.maxNonActiveRevisions >= 0 && config.minNonActiveRevisions > config.maxNonActiveRevisions) {
    errors.push(
      generic(
        `min-non-active-revisions(${config.minNonActiveRevisions}) must be <= max-non-active-revisions(${config.maxNonActiveRevisions})`,
        dataPath('min-non-active-revisions'),
      ),
    );
  }
  return { config, errors };
}
