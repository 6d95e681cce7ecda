// The admission pipeline shared by the webhook and `ebb validate`: recognise the object, decode
// it strictly, apply Knative's defaults, then validate. Same input, same answer, everywhere.
import type { z } from 'zod';
import { asKnativeConfigMap, parseConfigMap, type ClusterConfig } from './config/cluster-config.ts';
import { decode, decodeLenient } from './decode.ts';
import { generic, normalizeErrors, splitLevels, type FieldError } from './field-error.ts';
import { API_VERSION, GROUP } from './serving/register.ts';
import { Configuration } from './serving/v1/configuration-types.ts';
import { validateConfiguration } from './serving/v1/configuration-validation.ts';
import {
  defaultConfiguration,
  defaultRevision,
  defaultRoute,
  defaultService,
  type DefaultingOptions,
} from './serving/v1/defaults.ts';
import { Revision } from './serving/v1/revision-types.ts';
import { validateRevision } from './serving/v1/revision-validation.ts';
import { Route } from './serving/v1/route-types.ts';
import { validateRoute } from './serving/v1/route-validation.ts';
import { Service } from './serving/v1/service-types.ts';
import { validateService } from './serving/v1/service-validation.ts';
import type { ValidationContext } from './serving/validation-context.ts';

export interface CheckOptions {
  /** The stored object on an update; enables immutability and name-change checks. */
  old?: unknown;
  /** The requesting user, for the creator / lastModifier annotations. */
  user?: string;
}

export interface CheckResult {
  kind: string;
  name: string;
  /** True when the object is not one ebb validates (another kind, or an unrelated ConfigMap). */
  skipped: boolean;
  errors: FieldError[];
  /** What Knative warns about but accepts (kubectl prints these as "Warning: ..."). */
  warnings: FieldError[];
  /** The object after defaulting, when it decoded. */
  defaulted?: unknown;
}

interface KindHandler<S extends z.ZodType> {
  schema: S;
  defaults: (obj: z.output<S>, ctx: ValidationContext, options: DefaultingOptions) => z.output<S>;
  validate: (obj: z.output<S>, ctx: ValidationContext, old?: z.output<S>) => FieldError[];
}

function handler<S extends z.ZodType>(h: KindHandler<S>): KindHandler<z.ZodType> {
  return h;
}

const SERVING_KINDS: Record<string, KindHandler<z.ZodType>> = {
  Service: handler({ schema: Service, defaults: defaultService, validate: validateService }),
  Configuration: handler({
    schema: Configuration,
    defaults: defaultConfiguration,
    validate: validateConfiguration,
  }),
  Revision: handler({ schema: Revision, defaults: defaultRevision, validate: validateRevision }),
  Route: handler({
    schema: Route,
    defaults: (r, _ctx, o) => defaultRoute(r, o),
    validate: (r, _ctx, old) => validateRoute(r, old),
  }),
};

function describe(input: unknown): { apiVersion: string; kind: string; name: string } {
  const obj = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const meta = (typeof obj.metadata === 'object' && obj.metadata !== null ? obj.metadata : {}) as Record<
    string,
    unknown
  >;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const name = str(meta.name) || (str(meta.generateName) === '' ? '' : `${str(meta.generateName)}*`);
  return { apiVersion: str(obj.apiVersion), kind: str(obj.kind), name: name || '<unnamed>' };
}

export function checkObject(input: unknown, config: ClusterConfig, options: CheckOptions = {}): CheckResult {
  const { apiVersion, kind, name } = describe(input);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      kind: kind || '<not an object>',
      name,
      skipped: false,
      errors: [generic('expected a Kubernetes object (a YAML mapping)', [])],
      warnings: [],
    };
  }
  const configMap = asKnativeConfigMap(input);
  if (configMap !== undefined) {
    return {
      kind: 'ConfigMap',
      name,
      skipped: false,
      errors: normalizeErrors(parseConfigMap(configMap.name, configMap.data)),
      warnings: [],
    };
  }
  if (apiVersion.startsWith(`${GROUP}/`) && apiVersion !== API_VERSION) {
    return {
      kind,
      name,
      skipped: false,
      errors: [
        generic(
          `unsupported apiVersion ${JSON.stringify(apiVersion)}`,
          'apiVersion',
          `ebb serves ${API_VERSION}; convert the manifest to it`,
        ),
      ],
      warnings: [],
    };
  }
  const h = apiVersion === API_VERSION ? SERVING_KINDS[kind] : undefined;
  if (h === undefined) {
    if (apiVersion === API_VERSION) {
      return {
        kind: kind || '<no kind>',
        name,
        skipped: false,
        errors: [
          generic(
            `unknown kind ${JSON.stringify(kind)}`,
            'kind',
            'use Service, Configuration, Revision or Route',
          ),
        ],
        warnings: [],
      };
    }
    return { kind, name, skipped: true, errors: [], warnings: [] };
  }
  const decoded = decodeLenient(h.schema, input);
  if (decoded.value === undefined)
    return { kind, name, skipped: false, errors: normalizeErrors(decoded.errors), warnings: [] };
  let old: unknown;
  if (options.old !== undefined) {
    const decodedOld = decode(h.schema, options.old);
    if (decodedOld.ok) old = decodedOld.value;
  }
  const ctx: ValidationContext = { config };
  const defaultingOptions: DefaultingOptions = {
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(old === undefined ? {} : { old: old as NonNullable<DefaultingOptions['old']> }),
  };
  const defaulted = h.defaults(decoded.value, ctx, defaultingOptions);
  const { errors, warnings } = splitLevels(
    normalizeErrors([...decoded.errors, ...h.validate(defaulted, ctx, old)]),
  );
  return decoded.errors.length > 0
    ? { kind, name, skipped: false, errors, warnings }
    : { kind, name, skipped: false, errors, warnings, defaulted };
}
