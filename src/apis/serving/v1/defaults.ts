// SetDefaults for the four serving kinds, as Knative's mutating webhook applies them. Each returns
// a defaulted copy; Revision updates are never defaulted (Knative issue 8128).
import type { ObjectMeta } from '../../meta/v1.ts';
import { deepEqual } from '../../object-diff.ts';
import { ANNOTATIONS } from '../register.ts';
import type { ValidationContext } from '../validation-context.ts';
import type { Configuration } from './configuration-types.ts';
import {
  canonicalSpec,
  canonicalTemplate,
  defaultRevisionSpec,
  defaultRevisionTemplate,
} from './revision-defaults.ts';
import type { Revision } from './revision-types.ts';
import { defaultTraffic } from './route-defaults.ts';
import type { Route } from './route-types.ts';
import type { Service } from './service-types.ts';

export interface DefaultingOptions {
  /** The requesting user, recorded in the creator and lastModifier annotations. */
  user?: string;
  /** The stored object, when this is an update. */
  old?: { metadata: ObjectMeta; spec: unknown };
}

function withUserInfo<T extends { metadata: ObjectMeta }>(
  obj: T,
  options: DefaultingOptions,
  specChanged: boolean,
): T {
  if (options.user === undefined) return obj;
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  if (options.old === undefined) {
    annotations[ANNOTATIONS.creator] = options.user;
    annotations[ANNOTATIONS.lastModifier] = options.user;
  } else if (specChanged) {
    annotations[ANNOTATIONS.lastModifier] = options.user;
  }
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}

/** A bring-your-own template name that did not change means "keep the template as it was". */
function skipTemplateDefaults(templateName: string | undefined, options: DefaultingOptions): boolean {
  const old = options.old?.spec as { template?: { metadata?: { name?: string } } } | undefined;
  return (templateName ?? '') !== '' && templateName === old?.template?.metadata?.name;
}

export function defaultService(
  svc: Service,
  ctx: ValidationContext,
  options: DefaultingOptions = {},
): Service {
  const template = skipTemplateDefaults(svc.spec.template.metadata?.name, options)
    ? canonicalTemplate(svc.spec.template)
    : defaultRevisionTemplate(svc.spec.template, ctx, svc.metadata);
  const traffic = defaultTraffic(svc.spec.traffic, true);
  const spec = { ...svc.spec, template, ...(traffic === undefined ? {} : { traffic }) };
  const changed = options.old !== undefined && !deepEqual(spec, options.old.spec);
  return withUserInfo({ ...svc, spec }, options, changed);
}

export function defaultConfiguration(
  cfg: Configuration,
  ctx: ValidationContext,
  options: DefaultingOptions = {},
): Configuration {
  const template = skipTemplateDefaults(cfg.spec.template.metadata?.name, options)
    ? canonicalTemplate(cfg.spec.template)
    : defaultRevisionTemplate(cfg.spec.template, ctx, cfg.metadata);
  const spec = { ...cfg.spec, template };
  const owned = (cfg.metadata.ownerReferences ?? []).length > 0;
  const changed = options.old !== undefined && !deepEqual(spec, options.old.spec);
  return owned ? { ...cfg, spec } : withUserInfo({ ...cfg, spec }, options, changed);
}

export function defaultRoute(route: Route, options: DefaultingOptions = {}): Route {
  const traffic = defaultTraffic(route.spec.traffic, false);
  const spec = traffic === undefined ? route.spec : { ...route.spec, traffic };
  const owned = (route.metadata.ownerReferences ?? []).length > 0;
  const changed = options.old !== undefined && !deepEqual(spec, options.old.spec);
  return owned ? { ...route, spec } : withUserInfo({ ...route, spec }, options, changed);
}

export function defaultRevision(
  rev: Revision,
  ctx: ValidationContext,
  options: DefaultingOptions = {},
): Revision {
  if (options.old !== undefined) return rev;
  return { ...rev, spec: canonicalSpec(defaultRevisionSpec(rev.spec, ctx, rev.metadata)) };
}
