// config-network: URL templates, rollout duration and protocol settings for Routes. ebb is its own
// ingress, so ingress-class and certificate-class are accepted and recorded but change nothing.
import type { FieldError } from '../field-error.ts';
import { ConfigReader, type ConfigData } from './configmap-data.ts';
import { executeGoTemplate, parseGoTemplate, type GoTemplate } from './go-template.ts';

export type HttpProtocol = 'enabled' | 'disabled' | 'redirected';

export interface NetworkConfig {
  ingressClass: string;
  certificateClass: string;
  domainTemplate: GoTemplate;
  tagTemplate: GoTemplate;
  /** Seconds; 0 turns gradual rollout off. */
  rolloutDurationSeconds: number;
  autocreateClusterDomainClaims: boolean;
  defaultExternalScheme: string;
  httpProtocol: HttpProtocol;
  externalDomainTLS: boolean;
  clusterLocalDomainTLS: boolean;
  systemInternalTLS: boolean;
}

export const DEFAULT_DOMAIN_TEMPLATE = '{{.Name}}.{{.Namespace}}.{{.Domain}}';
export const DEFAULT_TAG_TEMPLATE = '{{.Tag}}-{{.Name}}';

export function defaultNetworkConfig(): NetworkConfig {
  return parseNetworkConfig({}).config;
}

function template(
  r: ConfigReader,
  key: string,
  fallback: string,
  sample: Record<string, string | Record<string, string> | undefined>,
): GoTemplate {
  const source = r.string(key, fallback, 'Go template');
  try {
    const parsed = parseGoTemplate(key.replace(/([A-Z])/g, '-$1').toLowerCase(), source);
    const output = executeGoTemplate(parsed, sample);
    if (key.startsWith('domain')) checkDomainOutput(r, key, output);
    return parsed;
  } catch (error) {
    r.fail(key, (error as Error).message);
    return parseGoTemplate(key, fallback);
  }
}

function checkDomainOutput(r: ConfigReader, key: string, output: string): void {
  // Go's url.Parse accepts an empty host where WHATWG's URL throws, so check the host first.
  const authority = output.split(/[/?#]/)[0] ?? '';
  if (authority.replace(/^.*@/, '').replace(/:\d*$/, '') === '') {
    r.fail(key, 'empty hostname');
    return;
  }
  let url: URL;
  try {
    url = new URL(`https://${output}`);
  } catch {
    r.fail(key, `domain template produces an invalid host: ${JSON.stringify(output)}`);
    return;
  }
  if (url.hostname === '') r.fail(key, 'empty hostname');
  else if (url.pathname + url.search !== '/')
    r.fail(key, `domain template has url path: ${url.pathname}${url.search}`);
}

export function parseNetworkConfig(data: ConfigData | ConfigReader): {
  config: NetworkConfig;
  errors: FieldError[];
} {
  const r = ConfigReader.of(data);
  const rolloutKey = r.alias('rollout-duration', 'rolloutDuration');
  const protocolKey = r.alias('http-protocol', 'httpProtocol');
  const protocolGiven = r.lookup(protocolKey, 'Enabled, Disabled or Redirected', 'Enabled') ?? '';
  const protocolRaw = protocolGiven.toLowerCase();
  const autoTLS =
    (r.lookup(r.alias('auto-tls', 'autoTLS'), 'Enabled or Disabled', 'Disabled') ?? '').toLowerCase() ===
    'enabled';
  const externalTLS = r.lookup('external-domain-tls', 'Enabled or Disabled', 'Disabled');
  const config: NetworkConfig = {
    ingressClass: r.string(r.alias('ingress-class', 'ingress.class'), 'ebb.ingress.networking.knative.dev'),
    certificateClass: r.string(
      r.alias('certificate-class', 'certificate.class'),
      'cert-manager.certificate.networking.knative.dev',
    ),
    domainTemplate: template(r, r.alias('domain-template', 'domainTemplate'), DEFAULT_DOMAIN_TEMPLATE, {
      Name: 'foo',
      Namespace: 'bar',
      Domain: 'baz.com',
      Annotations: {},
      Labels: {},
    }),
    tagTemplate: template(r, r.alias('tag-template', 'tagTemplate'), DEFAULT_TAG_TEMPLATE, {
      Name: 'foo',
      Tag: 'v2',
    }),
    rolloutDurationSeconds: r.int(rolloutKey, 0),
    autocreateClusterDomainClaims: r.bool(
      r.alias('autocreate-cluster-domain-claims', 'autocreateClusterDomainClaims'),
      false,
    ),
    defaultExternalScheme: r.string(r.alias('default-external-scheme', 'defaultExternalScheme'), 'http'),
    httpProtocol: 'enabled',
    externalDomainTLS: externalTLS === undefined ? autoTLS : externalTLS.toLowerCase() === 'enabled',
    clusterLocalDomainTLS: false,
    systemInternalTLS: false,
  };
  if (config.rolloutDurationSeconds < 0) {
    r.fail(
      rolloutKey,
      `rollout-duration must be a positive integer, but was ${config.rolloutDurationSeconds}`,
    );
  }
  if (
    protocolRaw === '' ||
    protocolRaw === 'enabled' ||
    protocolRaw === 'disabled' ||
    protocolRaw === 'redirected'
  ) {
    config.httpProtocol = protocolRaw === '' ? 'enabled' : protocolRaw;
  } else {
    r.fail(
      protocolKey,
      `httpProtocol ${protocolGiven} in config-network ConfigMap is not supported`,
      'use Enabled, Disabled or Redirected',
    );
  }
  for (const [key, set] of [
    ['system-internal-tls', (v: boolean) => (config.systemInternalTLS = v)],
    ['cluster-local-domain-tls', (v: boolean) => (config.clusterLocalDomainTLS = v)],
  ] as const) {
    const given = r.lookup(key, 'Enabled or Disabled', 'Disabled');
    const value = (given ?? '').toLowerCase();
    if (value === '' || value === 'disabled') set(false);
    else if (value === 'enabled') set(true);
    else
      r.fail(key, `${key} with value: ${JSON.stringify(given)} in config-network ConfigMap is not supported`);
  }
  return { config, errors: r.errors };
}

/** Renders a Route's host: `{{.Name}}.{{.Namespace}}.{{.Domain}}` by default. */
export function renderDomain(
  config: NetworkConfig,
  values: {
    name: string;
    namespace: string;
    domain: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  },
): string {
  return executeGoTemplate(config.domainTemplate, {
    Name: values.name,
    Namespace: values.namespace,
    Domain: values.domain,
    Annotations: values.annotations ?? {},
    Labels: values.labels ?? {},
  });
}

/** The host name part for a tag: `{{.Tag}}-{{.Name}}` by default. */
export function renderTagName(config: NetworkConfig, name: string, tag: string): string {
  return executeGoTemplate(config.tagTemplate, { Name: name, Tag: tag });
}
