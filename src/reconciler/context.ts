// What every reconciler is given: the informer caches (the world as last seen), clients to change
// it, an event recorder, a logger, the live cluster configuration and a clock.
import type { AppsV1Api, CoreV1Api, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodAutoscaler } from '../apis/autoscaling/v1alpha1/podautoscaler-types.ts';
import type { ClusterConfig } from '../apis/config/cluster-config.ts';
import type { Configuration } from '../apis/serving/v1/configuration-types.ts';
import type { Revision } from '../apis/serving/v1/revision-types.ts';
import type { Route } from '../apis/serving/v1/route-types.ts';
import type { Service } from '../apis/serving/v1/service-types.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { Index } from '../controller/indexer.ts';
import type { Informer } from '../controller/informer.ts';
import type { CustomResources } from '../controller/kube.ts';
import type { StatusWriter } from './status.ts';

export interface World {
  services: Informer<Service>;
  configurations: Informer<Configuration>;
  revisions: Informer<Revision>;
  routes: Informer<Route>;
  podAutoscalers: Informer<PodAutoscaler>;
  deployments: Informer<V1Deployment>;
  k8sServices: Informer<V1Service>;
  pods: Informer<V1Pod>;
  /** Revisions' private Services (label serving.knative.dev/revision). */
  privateServices: Informer<V1Service>;
  /** Revisions by `namespace/configuration`. */
  revisionsByConfiguration: Index<Revision>;
  /** Pods by `namespace/revision`. */
  podsByRevision: Index<V1Pod>;
  /** Revisions and Configurations by `namespace/route` of each route in their routes annotation. */
  revisionsByRoute: Index<Revision>;
  configurationsByRoute: Index<Configuration>;
  /** Placeholder Services by `namespace/route`. */
  k8sServicesByRoute: Index<V1Service>;
}

export interface ReconcilerContext {
  world: World;
  custom: CustomResources;
  /** Status writes, skipping those that would change nothing. */
  status: StatusWriter;
  apps: AppsV1Api;
  core: CoreV1Api;
  events: EventRecorder;
  log: Logger;
  config: () => ClusterConfig;
  now: () => Date;
  /** Where ebb runs: its ConfigMaps and the gateway's Service live here. */
  systemNamespace: string;
  /** Name of the gateway's in-cluster Service, the target of every Route's placeholder Service. */
  gatewayService: string;
  /** The cluster's DNS domain, `cluster.local` unless the cluster says otherwise. */
  clusterDomain: string;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash === -1
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
