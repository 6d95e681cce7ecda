// Table tests of config-network parsing against Knative's keys, defaults and messages. ebb is its
// own ingress, so its default ingress-class is ebb's rather than Istio's.
import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../field-error.ts';
import { parseNetworkConfig, renderDomain, renderTagName, type NetworkConfig } from './network.ts';

const problems = (errors: readonly FieldError[]): string[] =>
  errors.map((e) => `${e.paths.join(', ')}: ${e.message}`);

type Expected = Omit<NetworkConfig, 'domainTemplate' | 'tagTemplate'> & { domain: string; tag: string };

/** The config with both templates rendered for Route "foo" in "bar", tag "v2", domain "example.com". */
function summary(config: NetworkConfig): Expected {
  return {
    ingressClass: config.ingressClass,
    certificateClass: config.certificateClass,
    rolloutDurationSeconds: config.rolloutDurationSeconds,
    autocreateClusterDomainClaims: config.autocreateClusterDomainClaims,
    defaultExternalScheme: config.defaultExternalScheme,
    httpProtocol: config.httpProtocol,
    externalDomainTLS: config.externalDomainTLS,
    clusterLocalDomainTLS: config.clusterLocalDomainTLS,
    systemInternalTLS: config.systemInternalTLS,
    domain: renderDomain(config, {
      name: 'foo',
      namespace: 'bar',
      domain: 'example.com',
      labels: { app: 'web' },
    }),
    tag: renderTagName(config, 'foo', 'v2'),
  };
}

const DEFAULTS: Expected = {
  ingressClass: 'ebb.ingress.networking.knative.dev',
  certificateClass: 'cert-manager.certificate.networking.knative.dev',
  rolloutDurationSeconds: 0,
  autocreateClusterDomainClaims: false,
  defaultExternalScheme: 'http',
  httpProtocol: 'enabled',
  externalDomainTLS: false,
  clusterLocalDomainTLS: false,
  systemInternalTLS: false,
  domain: 'foo.bar.example.com',
  tag: 'v2-foo',
};

const LEGACY = {
  'ingress.class': '1',
  'certificate.class': '2',
  domainTemplate: '3',
  tagTemplate: '4',
  rolloutDuration: '5',
  defaultExternalScheme: '6',
  autocreateClusterDomainClaims: 'true',
  httpProtocol: 'redirected',
  autoTLS: 'enabled',
};

describe('config-network', () => {
  const valid: [string, Record<string, string>, Expected][] = [
    ['an empty ConfigMap', {}, DEFAULTS],
    [
      'the legacy keys',
      LEGACY,
      {
        ingressClass: '1',
        certificateClass: '2',
        rolloutDurationSeconds: 5,
        autocreateClusterDomainClaims: true,
        defaultExternalScheme: '6',
        httpProtocol: 'redirected',
        externalDomainTLS: true,
        clusterLocalDomainTLS: false,
        systemInternalTLS: false,
        domain: '3',
        tag: '4',
      },
    ],
    [
      'the new keys overriding the legacy ones',
      {
        ...LEGACY,
        'ingress-class': 'kourier.ingress.networking.knative.dev',
        'certificate-class': 'net-http01.certificate.networking.knative.dev',
        'domain-template': '{{.Name}}-{{index .Labels "app"}}.{{.Domain}}',
        'tag-template': '{{.Name}}-{{.Tag}}',
        'rollout-duration': '0',
        'default-external-scheme': 'https',
        'autocreate-cluster-domain-claims': 'false',
        'http-protocol': 'Disabled',
        'auto-tls': 'Disabled',
        'system-internal-tls': 'Enabled',
        'cluster-local-domain-tls': 'enabled',
      },
      {
        ingressClass: 'kourier.ingress.networking.knative.dev',
        certificateClass: 'net-http01.certificate.networking.knative.dev',
        rolloutDurationSeconds: 0,
        autocreateClusterDomainClaims: false,
        defaultExternalScheme: 'https',
        httpProtocol: 'disabled',
        externalDomainTLS: false,
        clusterLocalDomainTLS: true,
        systemInternalTLS: true,
        domain: 'foo-web.example.com',
        tag: 'foo-v2',
      },
    ],
    [
      'external-domain-tls winning over auto-tls, and a non-"enabled" TLS value as false',
      { 'auto-tls': 'yes', 'external-domain-tls': 'ENABLED' },
      { ...DEFAULTS, externalDomainTLS: true },
    ],
  ];

  it.each(valid)('accepts %s', (_name, data, expected) => {
    const parsed = parseNetworkConfig(data);
    expect(parsed.errors).toEqual([]);
    expect(summary(parsed.config)).toEqual(expected);
  });

  const invalid: [string, Record<string, string>, (string | ReturnType<typeof expect.stringMatching>)[]][] = [
    [
      'a negative rollout duration',
      { 'rollout-duration': '-444' },
      ['data[rollout-duration]: rollout-duration must be a positive integer, but was -444'],
    ],
    [
      'a rollout duration and a claims flag that do not parse',
      { rolloutDuration: '10s', 'autocreate-cluster-domain-claims': 'salad' },
      [
        'data[rolloutDuration]: failed to parse "rolloutDuration": strconv.ParseInt: parsing "10s": invalid syntax',
        'data[autocreate-cluster-domain-claims]: strconv.ParseBool: parsing "salad": invalid syntax',
      ],
    ],
    ['an empty domain template', { 'domain-template': '' }, ['data[domain-template]: empty hostname']],
    [
      'a domain template with a url path',
      { 'domain-template': '{{.Domain}}/{{.Namespace}}/{{.Name}}.' },
      ['data[domain-template]: domain template has url path: /bar/foo.'],
    ],
    [
      'a domain template that does not parse',
      { 'domain-template': '{{.Namespace}.{{.Name}}.{{.Domain}}' },
      [expect.stringMatching(/^data\[domain-template\]: template: domain-template:1: /)],
    ],
    [
      'domain and tag templates with unknown fields (execution errors)',
      { domainTemplate: '{{.Name}}.{{.NAmespace}}.{{.Domain}}', 'tag-template': '{{.Tag}}-{{.Namespace}}' },
      [
        expect.stringMatching(
          /^data\[domainTemplate\]: template: domain-template\b.*<\.NAmespace>: can't evaluate field NAmespace/,
        ),
        expect.stringMatching(
          /^data\[tag-template\]: template: tag-template\b.*<\.Namespace>: can't evaluate field Namespace/,
        ),
      ],
    ],
    [
      'an unsupported http-protocol, quoted as given',
      { 'http-protocol': 'Under-The-Bridge' },
      ['data[http-protocol]: httpProtocol Under-The-Bridge in config-network ConfigMap is not supported'],
    ],
    [
      'unsupported TLS modes',
      { 'system-internal-tls': 'wrong', 'cluster-local-domain-tls': 'Maybe' },
      [
        'data[system-internal-tls]: system-internal-tls with value: "wrong" in config-network ConfigMap is not supported',
        'data[cluster-local-domain-tls]: cluster-local-domain-tls with value: "Maybe" in config-network ConfigMap is not supported',
      ],
    ],
  ];

  it.each(invalid)('rejects %s', (_name, data, expected) => {
    expect(problems(parseNetworkConfig(data).errors)).toEqual(expected);
  });
});
