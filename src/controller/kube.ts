// Typed access to the custom resources ebb reconciles (Knative's serving kinds and ebb's
// PodAutoscaler), over client-node's CustomObjectsApi, plus the error predicates reconcilers need.
// One place knows the group, version and plural of each kind.
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type KubeConfig,
} from '@kubernetes/client-node';

const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export interface CustomKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const SERVING_SERVICES: CustomKind = {
  group: 'serving.knative.dev',
  version: 'v1',
  plural: 'services',
  kind: 'Service',
};
export const CONFIGURATIONS: CustomKind = {
  ...SERVING_SERVICES,
  plural: 'configurations',
  kind: 'Configuration',
};
export const REVISIONS: CustomKind = { ...SERVING_SERVICES, plural: 'revisions', kind: 'Revision' };
export const ROUTES: CustomKind = { ...SERVING_SERVICES, plural: 'routes', kind: 'Route' };
export const PODAUTOSCALERS: CustomKind = {
  group: 'autoscaling.internal.ebb.dev',
  version: 'v1alpha1',
  plural: 'podautoscalers',
  kind: 'PodAutoscaler',
};

/** The collection path an Informer watches, across namespaces. */
export function collectionPath(kind: CustomKind): string {
  return `/apis/${kind.group}/${kind.version}/${kind.plural}`;
}

export function errorCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

export const isNotFound = (error: unknown): boolean => errorCode(error) === 404;
export const isConflict = (error: unknown): boolean => errorCode(error) === 409;

/** The API server refuses new objects in a namespace being deleted; its objects are going too. */
export function isNamespaceTerminating(error: unknown): boolean {
  return errorCode(error) === 403 && apiMessage(error).includes('because it is being terminated');
}

/** The API server's own message for a failed call (its Status body), else the error's message. */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      return body;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

interface Named {
  metadata: { name?: string; namespace?: string };
}

export class CustomResources {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  // The caller names the kind's type; the API server has checked the objects against its CRD.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  async list<T>(kind: CustomKind): Promise<{ items: T[]; resourceVersion: string }> {
    const res = (await this.api.listClusterCustomObject({ ...this.ref(kind) })) as {
      items: T[];
      metadata?: { resourceVersion?: string };
    };
    return { items: res.items, resourceVersion: res.metadata?.resourceVersion ?? '' };
  }

  async get<T>(kind: CustomKind, namespace: string, name: string): Promise<T> {
    return (await this.api.getNamespacedCustomObject({ ...this.ref(kind), namespace, name })) as T;
  }

  async create<T extends Named>(kind: CustomKind, obj: T): Promise<T> {
    return (await this.api.createNamespacedCustomObject({
      ...this.ref(kind),
      namespace: obj.metadata.namespace ?? '',
      body: obj,
    })) as T;
  }

  async replace<T extends Named>(kind: CustomKind, obj: T): Promise<T> {
    return (await this.api.replaceNamespacedCustomObject({
      ...this.ref(kind),
      namespace: obj.metadata.namespace ?? '',
      name: obj.metadata.name ?? '',
      body: obj,
    })) as T;
  }

  /**
   * Sets the whole status with a JSON patch, without a resourceVersion precondition: only the
   * leader writes status, and a status computed from an older view is corrected by the reconcile
   * the newer event triggers, so a conflict would only cost a retry.
   */
  async setStatus(kind: CustomKind, namespace: string, name: string, status: unknown): Promise<void> {
    await this.api.patchNamespacedCustomObjectStatus(
      { ...this.ref(kind), namespace, name, body: [{ op: 'add', path: '/status', value: status }] },
      JSON_PATCH,
    );
  }

  /** A patch; pass the content type through `options` (e.g. setHeaderOptions for a merge patch). */
  async patch(
    kind: CustomKind,
    namespace: string,
    name: string,
    body: object,
    options?: ConfigurationOptions,
  ): Promise<unknown> {
    return (await this.api.patchNamespacedCustomObject(
      { ...this.ref(kind), namespace, name, body },
      options,
    )) as unknown;
  }

  async delete(kind: CustomKind, namespace: string, name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({ ...this.ref(kind), namespace, name });
  }

  private ref(kind: CustomKind): { group: string; version: string; plural: string } {
    return { group: kind.group, version: kind.version, plural: kind.plural };
  }
}
