// Builds a Revision's private Service `<rev>-private`: headless, selecting the Revision's pods, so
// that the cluster keeps EndpointSlices of them. The gateway and the autoscaler read those slices
// to find the pods (ready or still starting) without watching every Pod. It carries no traffic
// itself: headless, so kube-proxy programs nothing for it.
import type { V1Service } from '@kubernetes/client-node';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';
import { controllerRef } from '../../shared/meta.ts';
import { revisionChildLabels, revisionSelector } from './meta.ts';
import { childName } from './names.ts';
import { userPort } from './serving-container.ts';

/** The port name the gateway looks for in a Revision's EndpointSlices. */
export const PRIVATE_PORT_NAME = 'http';

export function privateServiceName(rev: Pick<Revision, 'metadata'>): string {
  return childName(rev.metadata.name ?? '', '-private');
}

export function makePrivateService(rev: Revision): V1Service {
  const port = userPort(rev.spec);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: privateServiceName(rev),
      namespace: rev.metadata.namespace,
      labels: revisionChildLabels(rev),
      ownerReferences: [controllerRef(rev)],
    },
    spec: {
      clusterIP: 'None',
      selector: revisionSelector(rev).matchLabels,
      // EndpointSlices list starting pods too (ready: false), so the gateway can probe them
      // before the kubelet's readiness probe reports them ready.
      ports: [{ name: PRIVATE_PORT_NAME, port, protocol: 'TCP', targetPort: port }],
    },
  };
}
