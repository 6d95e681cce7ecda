// Which of a Revision's containers receives requests, on which port and protocol. Knative's
// RevisionSpec.GetContainer, GetUserPort and GetProtocol; the builders and the status checks agree
// through here.
import type { Container } from '../../../apis/core/v1.ts';
import { DEFAULT_PORT } from '../../../apis/serving/k8s-validation.ts';
import type { RevisionSpec } from '../../../apis/serving/v1/revision-types.ts';

/** The name Knative gives the serving container's single port on the Deployment. */
export const USER_PORT_NAME = 'user-port';

/** The only container, or else the first one that declares a port; -1 when there is none. */
export function servingContainerIndex(spec: RevisionSpec): number {
  const containers = spec.containers ?? [];
  if (containers.length === 1) return 0;
  return containers.findIndex((c) => (c.ports?.length ?? 0) > 0);
}

export function servingContainer(spec: RevisionSpec): Container | undefined {
  return spec.containers?.[servingContainerIndex(spec)];
}

/** The serving container's declared port, 8080 when it declares none (or 0). */
export function userPort(spec: RevisionSpec): number {
  const port = servingContainer(spec)?.ports?.[0]?.containerPort ?? 0;
  return port === 0 ? DEFAULT_PORT : port;
}

/** A port named `h2c` asks for cleartext HTTP/2 end to end; anything else is HTTP/1. */
export function protocolType(spec: RevisionSpec): 'http1' | 'h2c' {
  return servingContainer(spec)?.ports?.[0]?.name === 'h2c' ? 'h2c' : 'http1';
}
