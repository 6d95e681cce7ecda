// Defaulting of a Revision's spec (and of the templates that become Revisions), with Knative's
// rules and config-defaults / config-features. Functions return a defaulted copy.
import type { Container, Probe, Volume } from '../../core/v1.ts';
import type { DefaultsConfig } from '../../config/defaults.ts';
import { userContainerName } from '../../config/defaults.ts';
import type { ObjectMeta } from '../../meta/v1.ts';
import type { ValidationContext } from '../validation-context.ts';
import type { RevisionSpec, RevisionTemplateSpec } from './revision-types.ts';

function withReadinessDefaults(probe: Probe): Probe {
  const out: Probe = { ...probe };
  if ((out.successThreshold ?? 0) === 0) out.successThreshold = 1;
  if ((out.periodSeconds ?? 0) !== 0) {
    if ((out.failureThreshold ?? 0) === 0) out.failureThreshold = 3;
    if ((out.timeoutSeconds ?? 0) === 0) out.timeoutSeconds = 1;
  }
  return out;
}

function defaultContainer(
  c: Container,
  serving: boolean,
  volumes: ReadonlyMap<string, Volume>,
  ctx: ValidationContext,
): Container {
  const out: Container = { ...c };
  const res = ctx.config.defaults.resources;
  for (const kind of ['requests', 'limits'] as const) {
    const defaults = res[kind];
    if (Object.keys(defaults).length === 0) continue;
    const current = { ...(out.resources?.[kind] ?? {}) };
    for (const [name, quantity] of Object.entries(defaults)) current[name] ??= quantity;
    out.resources = { ...out.resources, [kind]: current };
  }
  if (serving) {
    const probe: Probe = { ...(out.readinessProbe ?? {}) };
    if (
      probe.tcpSocket === undefined &&
      probe.httpGet === undefined &&
      probe.exec === undefined &&
      probe.grpc === undefined
    ) {
      probe.tcpSocket = {};
    }
    out.readinessProbe = probe;
  }
  if (out.readinessProbe !== undefined) out.readinessProbe = withReadinessDefaults(out.readinessProbe);
  if (out.volumeMounts !== undefined) {
    out.volumeMounts = out.volumeMounts.map((m) => {
      const v = volumes.get(m.name);
      const writable = v?.emptyDir !== undefined || v?.persistentVolumeClaim !== undefined;
      return writable || m.readOnly === true ? m : { ...m, readOnly: true };
    });
  }
  if (ctx.config.features.securePodDefaults !== 'Disabled') out.securityContext = secureDefaults(out, ctx);
  return out;
}

function secureDefaults(c: Container, ctx: ValidationContext): Container['securityContext'] {
  const sc = { ...(c.securityContext ?? {}) };
  sc.allowPrivilegeEscalation ??= false;
  if (sc.seccompProfile === undefined || sc.seccompProfile.type === '')
    sc.seccompProfile = { type: 'RuntimeDefault' };
  if (sc.capabilities === undefined) {
    const lowPort = (c.ports ?? []).some((p) => p.containerPort < 1024);
    sc.capabilities = lowPort ? { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } : { drop: ['ALL'] };
  }
  if (ctx.config.features.securePodDefaults === 'Enabled') sc.runAsNonRoot ??= true;
  return sc;
}

/** Names empty containers `user-container` (or `user-container-N` when there are several). */
function nameContainers(list: Container[], used: ReadonlySet<string>, fallback: string): Container[] {
  let n = 0;
  return list.map((c) => {
    if ((c.name ?? '') !== '') return c;
    let name = fallback;
    if (list.length > 1 || used.has(fallback)) {
      do name = `${fallback}-${n++}`;
      while (used.has(name));
    }
    return { ...c, name };
  });
}

function applyTimeouts(spec: RevisionSpec, defaults: DefaultsConfig): void {
  if ((spec.timeoutSeconds ?? 0) === 0) spec.timeoutSeconds = defaults.revisionTimeoutSeconds;
  const timeout = spec.timeoutSeconds ?? defaults.revisionTimeoutSeconds;
  if (spec.idleTimeoutSeconds === undefined) {
    const d = defaults.revisionIdleTimeoutSeconds;
    if (d !== 0 && d < timeout) spec.idleTimeoutSeconds = d;
  }
  if (spec.responseStartTimeoutSeconds === undefined) {
    const d = defaults.revisionResponseStartTimeoutSeconds;
    if (d !== 0 && d < timeout) spec.responseStartTimeoutSeconds = d;
  }
  spec.containerConcurrency ??= defaults.containerConcurrency;
  spec.enableServiceLinks ??= defaults.enableServiceLinks;
  if (spec.enableServiceLinks === undefined) delete spec.enableServiceLinks;
}

export function defaultRevisionSpec(
  input: RevisionSpec,
  ctx: ValidationContext,
  parent: ObjectMeta | undefined,
): RevisionSpec {
  const spec: RevisionSpec = { ...input };
  applyTimeouts(spec, ctx.config.defaults);
  const containers = spec.containers ?? [];
  const inits = spec.initContainers ?? [];
  const used = new Set([...containers, ...inits].map((c) => c.name ?? ''));
  const meta = parent ?? {};
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  if (spec.containers !== undefined) {
    spec.containers = nameContainers(containers, used, userContainerName(ctx.config.defaults, meta)).map(
      (c) => defaultContainer(c, containers.length === 1 || (c.ports?.length ?? 0) > 0, volumes, ctx),
    );
  }
  if (spec.initContainers !== undefined) {
    spec.initContainers = nameContainers(inits, used, userContainerName(ctx.config.defaults, meta, true)).map(
      (c) => defaultContainer(c, false, volumes, ctx),
    );
  }
  return spec;
}

export function defaultRevisionTemplate(
  template: RevisionTemplateSpec,
  ctx: ValidationContext,
  parent: ObjectMeta,
): RevisionTemplateSpec {
  return { ...template, spec: defaultRevisionSpec(template.spec ?? {}, ctx, parent) };
}
