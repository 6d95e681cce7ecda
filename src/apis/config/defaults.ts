// config-defaults: revision timeouts, concurrency and container naming defaults.
import { generic, outOfBounds, type FieldError } from '../field-error.ts';
import { ConfigReader, dataPath, type ConfigData } from './configmap-data.ts';
import { executeGoTemplate, parseGoTemplate, TemplateError, type GoTemplate } from './go-template.ts';

export interface DefaultsConfig {
  revisionTimeoutSeconds: number;
  maxRevisionTimeoutSeconds: number;
  revisionResponseStartTimeoutSeconds: number;
  revisionIdleTimeoutSeconds: number;
  containerConcurrency: number;
  containerConcurrencyMaxLimit: number;
  allowContainerConcurrencyZero: boolean;
  containerNameTemplate: GoTemplate;
  initContainerNameTemplate: GoTemplate;
  /** undefined leaves Kubernetes' own default in place. */
  enableServiceLinks: boolean | undefined;
  resources: {
    requests: Partial<Record<'cpu' | 'memory' | 'ephemeral-storage', string>>;
    limits: Partial<Record<'cpu' | 'memory' | 'ephemeral-storage', string>>;
  };
}

const MAX_INT32 = 2147483647;
const TEMPLATE_NAME = 'container-template';

export function defaultDefaultsConfig(): DefaultsConfig {
  return parseDefaultsConfig({}).config;
}

function readTemplate(r: ConfigReader, key: string, fallback: string): GoTemplate {
  try {
    return parseGoTemplate(TEMPLATE_NAME, r.string(key, fallback, 'Go template'));
  } catch (error) {
    r.fail(key, (error as Error).message);
    return parseGoTemplate(TEMPLATE_NAME, fallback);
  }
}

export function parseDefaultsConfig(data: ConfigData | ConfigReader): {
  config: DefaultsConfig;
  errors: FieldError[];
} {
  const r = ConfigReader.of(data);
  const timeout = r.int('revision-timeout-seconds', 300);
  // Knative's tri-state: "default" (or anything else) leaves the field to Kubernetes.
  const links = r.string('enable-service-links', 'false', 'true, false or default').toLowerCase();
  const resources: DefaultsConfig['resources'] = { requests: {}, limits: {} };
  for (const resource of ['cpu', 'memory', 'ephemeral-storage'] as const) {
    const request = r.quantity(`revision-${resource}-request`);
    const limit = r.quantity(`revision-${resource}-limit`);
    if (request !== undefined) resources.requests[resource] = request;
    if (limit !== undefined) resources.limits[resource] = limit;
  }
  const config: DefaultsConfig = {
    revisionTimeoutSeconds: timeout,
    maxRevisionTimeoutSeconds: r.int('max-revision-timeout-seconds', 600),
    revisionResponseStartTimeoutSeconds: r.int('revision-response-start-timeout-seconds', timeout),
    revisionIdleTimeoutSeconds: r.int('revision-idle-timeout-seconds', 0),
    containerConcurrency: r.int('container-concurrency', 0),
    containerConcurrencyMaxLimit: r.int('container-concurrency-max-limit', 1000),
    allowContainerConcurrencyZero: r.bool('allow-container-concurrency-zero', true),
    containerNameTemplate: readTemplate(r, 'container-name-template', 'user-container'),
    initContainerNameTemplate: readTemplate(r, 'init-container-name-template', 'init-container'),
    enableServiceLinks: links === 'true' ? true : links === 'false' ? false : undefined,
    resources,
  };
  // A key that did not parse keeps its default, so the remaining checks still say something true.
  return { config, errors: [...r.errors, ...validateDefaults(config)] };
}

function validateDefaults(c: DefaultsConfig): FieldError[] {
  const errors: FieldError[] = [];
  if (c.revisionTimeoutSeconds > c.maxRevisionTimeoutSeconds) {
    errors.push(
      generic(
        `revision-timeout-seconds (${c.revisionTimeoutSeconds}) cannot be greater than max-revision-timeout-seconds (${c.maxRevisionTimeoutSeconds})`,
        dataPath('revision-timeout-seconds'),
      ),
    );
  }
  if (
    c.revisionResponseStartTimeoutSeconds > 0 &&
    c.revisionResponseStartTimeoutSeconds > c.revisionTimeoutSeconds
  ) {
    errors.push(
      generic(
        `revision-response-start-timeout-seconds (${c.revisionResponseStartTimeoutSeconds}) cannot be greater than revision-timeout-seconds (${c.revisionTimeoutSeconds})`,
        dataPath('revision-response-start-timeout-seconds'),
      ),
    );
  }
  if (c.revisionIdleTimeoutSeconds > 0 && c.revisionIdleTimeoutSeconds > c.revisionTimeoutSeconds) {
    errors.push(
      generic(
        `revision-idle-timeout-seconds (${c.revisionIdleTimeoutSeconds}) cannot be greater than revision-timeout-seconds (${c.revisionTimeoutSeconds})`,
        dataPath('revision-idle-timeout-seconds'),
      ),
    );
  }
  if (c.containerConcurrencyMaxLimit < 1) {
    errors.push(
      outOfBounds(c.containerConcurrencyMaxLimit, 1, MAX_INT32, dataPath('container-concurrency-max-limit')),
    );
  } else if (c.containerConcurrency < 0 || c.containerConcurrency > c.containerConcurrencyMaxLimit) {
    errors.push(
      outOfBounds(
        c.containerConcurrency,
        0,
        c.containerConcurrencyMaxLimit,
        dataPath('container-concurrency'),
      ),
    );
  }
  for (const [key, template] of [
    ['container-name-template', c.containerNameTemplate],
    ['init-container-name-template', c.initContainerNameTemplate],
  ] as const) {
    try {
      executeGoTemplate(template, objectMetaTemplateData({}));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      errors.push(generic(`error executing template: ${error.message}`, dataPath(key)));
    }
  }
  return errors;
}

interface MetaLike {
  name?: string | undefined;
  generateName?: string | undefined;
  namespace?: string | undefined;
  uid?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

/** The fields of Kubernetes' ObjectMeta that a container-name template can use. */
export function objectMetaTemplateData(meta: MetaLike) {
  return {
    Name: meta.name ?? '',
    GenerateName: meta.generateName ?? '',
    Namespace: meta.namespace ?? '',
    UID: meta.uid ?? '',
    Labels: meta.labels ?? {},
    Annotations: meta.annotations ?? {},
  };
}

/** The default user-container name for a parent (Service or Configuration); "" if it fails. */
export function userContainerName(config: DefaultsConfig, parent: MetaLike, init = false): string {
  try {
    return executeGoTemplate(
      init ? config.initContainerNameTemplate : config.containerNameTemplate,
      objectMetaTemplateData(parent),
    );
  } catch {
    return '';
  }
}
