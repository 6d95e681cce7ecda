// Informer constructors shared by the components: one for ebb's and Knative's custom kinds, one
// for built-in kinds listed through the typed client (whose Dates are turned back into the JSON
// shape watch events carry, so a cache holds one shape).
import type { KubeConfig } from '@kubernetes/client-node';
import { Informer, type Obj } from './informer.ts';
import { collectionPath, type CustomKind, type CustomResources } from './kube.ts';

export type OnRestart = (resource: string, reason: string) => void;

export function customInformer<T extends Obj>(
  kc: KubeConfig,
  custom: CustomResources,
  kind: CustomKind,
  onRestart: OnRestart,
  resyncMs = 10 * 60_000,
): Informer<T> {
  return new Informer<T>(kc, {
    path: collectionPath(kind),
    list: () => custom.list<T>(kind),
    resyncMs,
    onRestart: (reason) => {
      onRestart(kind.plural, reason);
    },
  });
}

export interface TypedInformerOptions<T> {
  resource: string;
  path: string;
  labelSelector?: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  onRestart: OnRestart;
}

export function typedInformer<T extends Obj>(kc: KubeConfig, options: TypedInformerOptions<T>): Informer<T> {
  return new Informer<T>(kc, {
    path: options.path,
    ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
    list: async () => {
      const res = await options.list();
      const items = JSON.parse(JSON.stringify(res.items)) as T[];
      return { items, resourceVersion: res.metadata?.resourceVersion ?? '' };
    },
    resyncMs: 0,
    onRestart: (reason) => {
      options.onRestart(options.resource, reason);
    },
  });
}
