// The admission decisions, pure: an admission.k8s.io/v1 AdmissionReview in, the AdmissionReview to
// answer out. Defaulting and validation of the serving kinds run the same checkObject pipeline as
// `ebb validate`; config validation parses Knative's ConfigMaps in the system namespace. The one
// call out, a dry-run Pod create for dry-run requests, is injected (dry-run.ts has the real one).
// The HTTP server, TLS and logging live in server.ts.
import { z } from 'zod';
import { checkObject, type CheckOptions } from '../apis/check.ts';
import { asKnativeConfigMap, parseConfigMap, type ClusterConfig } from '../apis/config/cluster-config.ts';
import { decode } from '../apis/decode.ts';
import {
  formatFieldError,
  formatKnative,
  generic,
  normalizeErrors,
  type FieldError,
} from '../apis/field-error.ts';
import { GROUP, LABELS } from '../apis/serving/register.ts';
import { Configuration } from '../apis/serving/v1/configuration-types.ts';
import { Revision } from '../apis/serving/v1/revision-types.ts';
import { Route } from '../apis/serving/v1/route-types.ts';
import { Service } from '../apis/serving/v1/service-types.ts';
import { makeDryRunPod, type DryRunPod } from './dry-run.ts';
import { createPatch } from './json-patch.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

const GroupVersionKind = z.looseObject({ group: z.string(), version: z.string(), kind: z.string() });

export const AdmissionRequest = z.looseObject({
  uid: z.string().min(1),
  kind: GroupVersionKind,
  resource: z.looseObject({ group: z.string(), version: z.string(), resource: z.string() }).optional(),
  subResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  userInfo: z.looseObject({ username: z.string().optional() }).optional(),
  object: z.unknown().optional(),
  oldObject: z.unknown().optional(),
  dryRun: z.boolean().optional(),
});
export type AdmissionRequest = z.infer<typeof AdmissionRequest>;

export interface AdmissionStatus {
  status: 'Failure';
  code: number;
  reason: string;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch. */
  patch?: string;
  /** Shown by kubectl as "Warning: ...", whether the request is allowed or not. */
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export interface AdmissionContext {
  /** The live cluster config; read once per request. */
  clusterConfig: () => ClusterConfig;
  /** Where Knative's ConfigMaps live, e.g. ebb-system. */
  systemNamespace: string;
  /** Asks the API server about a Pod without creating it; without it, dry runs are not checked. */
  dryRunPod?: DryRunPod;
}

export type AdmissionHandlerName = 'defaulting' | 'validation' | 'config-validation';

/** What a review decided, for the HTTP answer, logs and metrics. */
export interface ReviewOutcome {
  httpStatus: number;
  body: AdmissionReviewResponse;
  kind: string;
  namespace: string;
  name: string;
  operation: string;
  allowed: boolean;
  message?: string;
}

const SCHEMAS: Readonly<Record<string, z.ZodType>> = { Service, Configuration, Revision, Route };

function allow(uid: string): AdmissionResponse {
  return { uid, allowed: true };
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  500: 'InternalError',
};

/** knative.dev/pkg's MakeErrorStatus: a BadRequest status with the message users see. */
function deny(uid: string, message: string, code = 400): AdmissionResponse {
  const reason = REASONS[code] ?? 'BadRequest';
  return { uid, allowed: false, status: { status: 'Failure', code, reason, message } };
}

function isServingKind(request: AdmissionRequest): boolean {
  return request.kind.group === GROUP && Object.hasOwn(SCHEMAS, request.kind.kind);
}

/** The object to act on; undefined when the request carries none, or something that is no object. */
function newObject(request: AdmissionRequest): unknown {
  const object = request.object;
  return typeof object === 'object' && object !== null && !Array.isArray(object) ? object : undefined;
}

/** The stored object on an UPDATE, when it still decodes; an undecodable one is ignored. */
function oldObject(request: AdmissionRequest): unknown {
  if (request.operation !== 'UPDATE' || request.oldObject == null) return undefined;
  const schema = SCHEMAS[request.kind.kind];
  return schema !== undefined && decode(schema, request.oldObject).ok ? request.oldObject : undefined;
}

/**
 * Knative's defaulting webhook: apply the serving defaults and the creator / lastModifier
 * annotations, answering with the JSON Patch. Only an object that does not decode is rejected;
 * other problems are the validating webhook's to report. Revision updates are never defaulted
 * (Knative issue 8128), and status updates are left alone.
 */
export function defaulting(request: AdmissionRequest, ctx: AdmissionContext): AdmissionResponse {
  const { uid, operation } = request;
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allow(uid);
  if (!isServingKind(request) || (request.subResource ?? '') !== '') return allow(uid);
  if (operation === 'UPDATE' && request.kind.kind === 'Revision') return allow(uid);
  const object = newObject(request);
  if (object === undefined) return deny(uid, 'mutation failed: the new object may not be nil');
  const old = oldObject(request);
  const user = request.userInfo?.username;
  const options: CheckOptions = {};
  if (old !== undefined) options.old = old;
  // An update whose stored object does not decode would look like a create: it must not rewrite
  // the creator annotation, so it gets no user info at all.
  if (user !== undefined && user !== '' && (old !== undefined || operation === 'CREATE')) options.user = user;
  const result = checkObject(object, ctx.clusterConfig(), options);
  if (result.defaulted === undefined) return deny(uid, `mutation failed: ${formatKnative(result.errors)}`);
  const ops = createPatch(object, result.defaulted);
  if (ops.length === 0) return allow(uid);
  return {
    uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(ops)).toString('base64'),
  };
}

/**
 * Knative's validating webhook: reject a create or update with every problem, in Knative's
 * wording, and pass on Knative's warnings (e.g. security settings left at insecure defaults).
 * A dry run (`kubectl apply --dry-run=server`) that passes is then checked as Knative's validation
 * callback checks it: see templateDryRun. Deletes and status updates are always allowed.
 */
export async function validation(
  request: AdmissionRequest,
  ctx: AdmissionContext,
): Promise<AdmissionResponse> {
  const { uid, operation } = request;
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allow(uid);
  if (!isServingKind(request) || (request.subResource ?? '') !== '') return allow(uid);
  const object = newObject(request);
  if (object === undefined) return deny(uid, 'validation failed: the new object may not be nil');
  const old = oldObject(request);
  const config = ctx.clusterConfig();
  const result = checkObject(object, config, old === undefined ? {} : { old });
  // As knative.dev/pkg does: one warning per distinct message, its paths joined.
  const warnings = result.warnings.map((w) => formatKnative([w]));
  const withWarnings = (response: AdmissionResponse): AdmissionResponse =>
    warnings.length === 0 ? response : { ...response, warnings };
  if (result.errors.length > 0) {
    const stage = result.defaulted === undefined ? 'decoding request failed' : 'validation failed';
    return withWarnings(deny(uid, `${stage}: ${formatKnative(result.errors)}`));
  }
  const refused = await templateDryRun(request, result.defaulted, config, ctx.dryRunPod);
  if (refused === undefined) return withWarnings(allow(uid));
  return withWarnings(deny(uid, `validation callback failed: ${formatKnative([refused])}`));
}

/**
 * Knative's validation callback (serving's webhook/validate_unstructured.go): on a dry-run
 * request only, dry-run creates the Pod that the Service's or Configuration's template would run,
 * in the object's namespace, so that `kubectl apply --dry-run=server` also hears what the API
 * server would say about the pod spec. A Configuration a Service owns is skipped: the Service was
 * checked. A refusal "does not support dry run" means another webhook on Pods cannot take part
 * (it does not declare sideEffects None) and is ignored. Any other failure, a 5xx or an
 * unreachable API server included, denies, as in Knative: the request was only a dry run.
 */
async function templateDryRun(
  request: AdmissionRequest,
  defaulted: unknown,
  config: ClusterConfig,
  run: DryRunPod | undefined,
): Promise<FieldError | undefined> {
  if (run === undefined || request.dryRun !== true) return undefined;
  const kind = request.kind.kind;
  if (kind !== 'Service' && kind !== 'Configuration') return undefined;
  // checkObject decoded it with the kind's schema.
  const { metadata, spec } = defaulted as Service | Configuration;
  if (kind === 'Configuration' && (metadata.labels?.[LABELS.service] ?? '') !== '') return undefined;
  const namespace = metadata.namespace || (request.namespace ?? '');
  const refusal = await run(namespace, makeDryRunPod(spec.template.spec ?? {}, namespace, config));
  if (refusal === undefined || refusal.includes('does not support dry run')) return undefined;
  return generic(`dry run failed with ${refusal}`, 'spec.template');
}

const ConfigMapObject = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional() }).optional(),
  data: z.record(z.string(), z.string()).nullable().optional(),
});

/**
 * Knative's ConfigMap webhook: a create or update of one of Knative's config-* ConfigMaps in the
 * system namespace must parse. Other ConfigMaps, and deletes, pass.
 */
export function configValidation(request: AdmissionRequest, ctx: AdmissionContext): AdmissionResponse {
  const { uid, operation } = request;
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allow(uid);
  const { group, version, kind } = request.kind;
  if (group !== '' || version !== 'v1' || kind !== 'ConfigMap') return allow(uid);
  if (request.namespace !== ctx.systemNamespace || (request.subResource ?? '') !== '') return allow(uid);
  const decoded = decode(ConfigMapObject, request.object);
  if (!decoded.ok) return deny(uid, `validation failed: ${formatKnative(normalizeErrors(decoded.errors))}`);
  const name = request.name ?? decoded.value.metadata?.name ?? '';
  const configMap = asKnativeConfigMap({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data: decoded.value.data ?? {},
  });
  if (configMap === undefined) return allow(uid);
  const errors = normalizeErrors(parseConfigMap(configMap.name, configMap.data));
  return errors.length === 0 ? allow(uid) : deny(uid, `validation failed: ${formatKnative(errors)}`);
}

const HANDLERS: Record<
  AdmissionHandlerName,
  (request: AdmissionRequest, ctx: AdmissionContext) => AdmissionResponse | Promise<AdmissionResponse>
> = {
  defaulting,
  validation,
  'config-validation': configValidation,
};

function wrap(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

function describeObject(request: AdmissionRequest): { namespace: string; name: string } {
  const object = (request.object ?? request.oldObject) as
    { metadata?: { name?: unknown } } | null | undefined;
  const fromObject = object?.metadata?.name;
  return {
    namespace: request.namespace ?? '',
    name: request.name ?? (typeof fromObject === 'string' ? fromObject : ''),
  };
}

/**
 * An answer to a request that is not a usable AdmissionReview: HTTP `httpStatus` and a denial
 * that says why, echoing the uid when one could be read.
 */
export function malformedReview(message: string, uid = '', httpStatus = 400): ReviewOutcome {
  return {
    httpStatus,
    body: wrap(deny(uid, message, httpStatus)),
    kind: '',
    namespace: '',
    name: '',
    operation: '',
    allowed: false,
    message,
  };
}

function uidOf(body: unknown): string {
  const uid = (body as { request?: { uid?: unknown } } | null | undefined)?.request?.uid;
  return typeof uid === 'string' ? uid : '';
}

/** Parses `body` as an AdmissionReview and answers it with the named handler. Never rejects. */
export async function review(
  handler: AdmissionHandlerName,
  body: unknown,
  ctx: AdmissionContext,
): Promise<ReviewOutcome> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return malformedReview('malformed AdmissionReview: expected a JSON object');
  const { apiVersion, kind } = body as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion !== ADMISSION_API_VERSION || kind !== 'AdmissionReview') {
    const got = `${JSON.stringify(apiVersion ?? null)} ${JSON.stringify(kind ?? null)}`;
    return malformedReview(
      `malformed AdmissionReview: expected apiVersion "${ADMISSION_API_VERSION}" and kind "AdmissionReview", got ${got}`,
      uidOf(body),
    );
  }
  const decoded = decode(AdmissionRequest, (body as { request?: unknown }).request, 'request');
  if (!decoded.ok) {
    const problems = normalizeErrors(decoded.errors).map((e: FieldError) => formatFieldError(e));
    return malformedReview(`malformed AdmissionReview: ${problems.join('; ')}`, uidOf(body));
  }
  const request = decoded.value;
  let response: AdmissionResponse;
  try {
    response = await HANDLERS[handler](request, ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    response = deny(request.uid, `internal error: ${message}`, 500);
  }
  return {
    httpStatus: 200,
    body: wrap(response),
    kind: request.kind.kind,
    ...describeObject(request),
    operation: request.operation,
    allowed: response.allowed,
    ...(response.status === undefined ? {} : { message: response.status.message }),
  };
}
