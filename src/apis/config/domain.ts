// config-domain: which domain suffix each Route gets, chosen by label selectors.
import { parse as parseYaml } from 'yaml';
import { generic, type FieldError } from '../field-error.ts';
import { LABELS, VISIBILITY_CLUSTER_LOCAL } from '../serving/register.ts';
import { ConfigReader, dataPath, type ConfigData } from './configmap-data.ts';

export interface DomainEntry {
  domain: string;
  selector: Record<string, string>;
}

export interface DomainConfig {
  entries: DomainEntry[];
  clusterDomain: string;
}

export function defaultDomainConfig(clusterDomain = 'cluster.local'): DomainConfig {
  return parseDomainConfig({}, clusterDomain).config;
}

/** Every key is a domain, so there is no fixed key for a recording reader to list. */
export function parseDomainConfig(
  data: ConfigData | ConfigReader,
  clusterDomain = 'cluster.local',
): { config: DomainConfig; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const entries: DomainEntry[] = [];
  for (const [domain, value] of Object.entries(ConfigReader.of(data).data)) {
    if (domain === '_example') continue;
    let parsed: unknown;
    try {
      parsed = parseYaml(value);
    } catch (error) {
      errors.push(
        generic(`invalid YAML: ${(error as Error).message.split('\n')[0] ?? ''}`, dataPath(domain)),
      );
      continue;
    }
    const selector = (parsed as { selector?: unknown } | null)?.selector;
    if (selector !== undefined && selector !== null && !isStringMap(selector)) {
      errors.push(
        generic(
          'selector must map label names to strings',
          dataPath(domain),
          'e.g. "selector: {app: nonprofit}"',
        ),
      );
      continue;
    }
    entries.push({ domain, selector: selector ?? {} });
  }
  if (!entries.some((e) => Object.keys(e.selector).length === 0)) {
    entries.push({ domain: `svc.${clusterDomain}`, selector: {} });
  }
  return { config: { entries, clusterDomain }, errors };
}

function isStringMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string')
  );
}

/** The most specific matching selector wins; ties go to the alphabetically first domain. */
export function domainForLabels(config: DomainConfig, labels: Readonly<Record<string, string>>): string {
  if (labels[LABELS.visibility] === VISIBILITY_CLUSTER_LOCAL) return `svc.${config.clusterDomain}`;
  let best: DomainEntry | undefined;
  for (const entry of config.entries) {
    const keys = Object.keys(entry.selector);
    if (!keys.every((k) => labels[k] === entry.selector[k])) continue;
    const specificity = keys.length;
    const bestSpecificity = best === undefined ? -1 : Object.keys(best.selector).length;
    if (
      specificity > bestSpecificity ||
      (specificity === bestSpecificity && best !== undefined && entry.domain < best.domain)
    ) {
      best = entry;
    }
  }
  return best?.domain ?? `svc.${config.clusterDomain}`;
}
