// Knative's ConfigMaps in the system namespace, watched live and parsed with the foundation's
// parsers. Each ConfigMap is accepted whole or not at all: when a change does not parse, the last
// good version of that ConfigMap stays in force, and an Event on it and a log line say why.
import type { CoreV1Api, KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  applyConfigMapChange,
  asKnativeConfigMap,
  defaultClusterConfig,
  type ClusterConfig,
} from '../apis/config/cluster-config.ts';
import type { EventRecorder } from './events.ts';
import { Informer } from './informer.ts';

export class ConfigStore {
  private readonly informer: Informer<V1ConfigMap>;
  private readonly log: Logger;
  private readonly events: EventRecorder | undefined;
  private readonly listeners: (() => void)[] = [];
  private config: ClusterConfig = defaultClusterConfig();

  constructor(kc: KubeConfig, core: CoreV1Api, namespace: string, log: Logger, events?: EventRecorder) {
    this.log = log;
    this.events = events;
    this.informer = new Informer<V1ConfigMap>(kc, {
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      list: async () => {
        const res = await core.listNamespacedConfigMap({ namespace });
        return { items: res.items, resourceVersion: res.metadata?.resourceVersion ?? '' };
      },
      resyncMs: 0,
    });
    this.informer.on({
      add: (cm) => {
        this.apply(cm);
      },
      update: (cm, old) => {
        if (cm.metadata?.resourceVersion !== old.metadata?.resourceVersion) this.apply(cm);
      },
      delete: (cm) => {
        this.reset(cm);
      },
    });
  }

  /** The configuration in force; the object is replaced, never mutated, on a change. */
  get current(): ClusterConfig {
    return this.config;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  stop(): void {
    this.informer.stop();
  }

  private apply(cm: V1ConfigMap): void {
    const name = cm.metadata?.name ?? '';
    const data = asKnativeConfigMap({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: cm.metadata,
      data: cm.data,
    })?.data;
    if (data === undefined) return;
    const next = applyConfigMapChange(this.config, name, data);
    const fields = { kind: 'ConfigMap', namespace: cm.metadata?.namespace, name };
    if (next.rejected !== undefined) {
      this.log.error(
        { ...fields, reason: next.rejected },
        'invalid configuration ignored; keeping the last good version',
      );
      this.events?.event(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: cm.metadata ?? {} },
        'Warning',
        'InvalidConfig',
        `ignored: ${next.rejected}; the last good version stays in force`,
      );
      return;
    }
    this.replace(next.config);
    this.log.info(fields, 'configuration loaded');
  }

  private reset(cm: V1ConfigMap): void {
    const name = cm.metadata?.name ?? '';
    const next = applyConfigMapChange(this.config, name, undefined);
    if (!next.changed) return;
    this.replace(next.config);
    this.log.info({ kind: 'ConfigMap', name }, 'configuration deleted; using defaults');
  }

  private replace(config: ClusterConfig): void {
    this.config = config;
    for (const l of this.listeners) l();
  }
}
