// Defaulting of a Revision's spec (and of the templates that become Revisions), with Knative's
// rules and config-defaults / config-features. Functions return a defaulted copy.
import type { Container, Probe } from '../../core/v1.ts';
import type { DefaultsConfig } from '../../config/defaults.ts';
import { userContainerName } from '../../config/defaults.ts';
import type { ObjectMeta } from '../../meta/v1.ts';
import type { ValidationContext } from '../validation-context.ts';
import type { RevisionSpec, RevisionTemplateSpec } from './revision-types.ts';

/**
 * A probe as Knative stores it. Knative's webhook decodes an object into Go structs and encodes
 * it again, and the port of a TCP or HTTP probe has no omitempty: a probe written without a port,
 * like the TCP probe Knative adds itself, is stored with `port: 0`. Go clients (Knative's own
 * tests among them) send it that way on every update, so a template defaulted on create must
 * already read so, or the update would look like a new template and mint a Revision.
 */
function withProbePort(probe: Probe): Probe {
  const out: Probe = { ...probe };
  if (out.tcpSocket !== undefined && out.tcpSocket.port === undefined)
    out.tcpSocket = { ...out.tcpSocket, port: 0 };
  if (out.httpGet !== undefined && out.httpGet.port === undefined) out.httpGet = { ...out.httpGet, port: 0 };
  return out;
}

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
  writableVolumes: ReadonlySet<string>,
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
    out.volumeMounts = out.volumeMounts.map((m) =>
      writableVolumes.has(m.name) || m.readOnly === true ? m : { ...m, readOnly: true },
    );
  }
  return out;
}

type PodSecurityContext = NonNullable<RevisionSpec['securityContext']>;

/**
 * Under secure-pod-defaults, what a container leaves unset of the restricted profile, unless the
 * pod's securityContext already says it: every container, init containers included.
 */
function secureDefaults(
  c: Container,
  pod: PodSecurityContext | undefined,
  ctx: ValidationContext,
): Container {
  if (ctx.config.features.securePodDefaults === 'Disabled') return c;
  const sc = { ...(c.securityContext ?? {}) };
  sc.allowPrivilegeEscalation ??= false;
  const podSeccomp = pod?.seccompProfile as { type?: string } | undefined;
  if ((podSeccomp?.type ?? '') === '' && (sc.seccompProfile?.type ?? '') === '')
    sc.seccompProfile = { ...sc.seccompProfile, type: 'RuntimeDefault' };
  if (sc.capabilities === undefined) {
    const lowPort = (c.ports ?? []).some((p) => p.containerPort < 1024);
    sc.capabilities = lowPort ? { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } : { drop: ['ALL'] };
  }
  if (ctx.config.features.securePodDefaults === 'Enabled' && pod?.runAsNonRoot == null)
    sc.runAsNonRoot ??= true;
  return { ...c, securityContext: sc };
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
  // Mounts of anything but these become read-only. A name counts as writable if any volume of
  // that name is, as in Knative (which keeps a set of names, not a volume per name).
  const volumes = new Set(
    (spec.volumes ?? [])
      .filter(
        (v) => v.emptyDir !== undefined || v.persistentVolumeClaim !== undefined || v.ephemeral !== undefined,
      )
      .map((v) => v.name),
  );
  if (spec.containers !== undefined) {
    spec.containers = nameContainers(containers, used, userContainerName(ctx.config.defaults, meta)).map(
      (c) =>
        secureDefaults(
          defaultContainer(c, containers.length === 1 || (c.ports?.length ?? 0) > 0, volumes, ctx),
          spec.securityContext,
          ctx,
        ),
    );
  }
  // Init containers get a name and the secure defaults only: no resources, probes or read-only
  // mounts, as in Knative.
  if (spec.initContainers !== undefined) {
    spec.initContainers = nameContainers(inits, used, userContainerName(ctx.config.defaults, meta, true)).map(
      (c) => secureDefaults(c, spec.securityContext, ctx),
    );
  }
  return spec;
}

/** A container's probes in the shape Knative stores them (withProbePort). */
function withProbePorts(c: Container): Container {
  const out: Container = { ...c };
  for (const key of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
    const probe = out[key];
    if (probe !== undefined) out[key] = withProbePort(probe);
  }
  return out;
}

/**
 * The template in the one shape Knative's webhook leaves it in, whatever JSON encoded it: what
 * decoding into Knative's Go structs and encoding again does, and no more. It applies even where
 * defaults do not (an update that keeps a bring-your-own revision name), so that a template sent
 * back unchanged by a Go client stores as it was.
 */
export function canonicalTemplate(template: RevisionTemplateSpec): RevisionTemplateSpec {
  const out: RevisionTemplateSpec = { ...template };
  // A Go client encodes the template's unset creation time as null (Knative's Go structs have no
  // omitempty there); the time means nothing in a template, so both shapes store as neither.
  if (out.metadata?.creationTimestamp === null) {
    const rest = { ...out.metadata };
    delete rest.creationTimestamp;
    if (Object.keys(rest).length > 0) out.metadata = rest;
    else delete out.metadata;
  }
  if (out.spec !== undefined) out.spec = canonicalSpec(out.spec);
  return out;
}

/** A Revision spec in the shape Knative's Go round trip leaves it: probes with their ports. */
export function canonicalSpec(input: RevisionSpec): RevisionSpec {
  const spec = { ...input };
  if (spec.containers !== undefined) spec.containers = spec.containers.map(withProbePorts);
  if (spec.initContainers !== undefined) spec.initContainers = spec.initContainers.map(withProbePorts);
  return spec;
}

export function defaultRevisionTemplate(
  template: RevisionTemplateSpec,
  ctx: ValidationContext,
  parent: ObjectMeta,
): RevisionTemplateSpec {
  return canonicalTemplate({ ...template, spec: defaultRevisionSpec(template.spec ?? {}, ctx, parent) });
}
