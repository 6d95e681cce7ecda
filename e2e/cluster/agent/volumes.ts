// Materialises a pod's volumes as host directories the container mounts: emptyDir, configMap,
// secret and projected (ServiceAccount token through TokenRequest, configMaps, secrets and the
// downward API namespace). Tokens are refreshed before they expire, as the kubelet does. Every
// file is written inside the volume's directory; a failure names the volume.
import type { CoreV1Api, V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { isNotFound } from '../../../src/controller/kube.ts';
import { errorMessage } from '../shell.ts';

export interface PreparedVolumes {
  /** Volume name → host directory. */
  paths: Map<string, string>;
  /** Milliseconds until the earliest token needs refreshing, if any. */
  refreshInMs?: number;
}

async function writeItems(
  dir: string,
  data: Record<string, string>,
  items: V1KeyToPath[] | undefined,
  mode = 0o644,
): Promise<void> {
  const entries =
    items === undefined
      ? Object.entries(data).map(([k, v]) => [k, k, v] as const)
      : items.map((i) => [i.key, i.path, data[i.key] ?? ''] as const);
  for (const [, path, value] of entries) {
    const file = join(dir, path);
    // The API server refuses such paths; this keeps the agent's writes in the volume regardless.
    const inside = relative(dir, file);
    if (inside === '' || inside === '..' || inside.startsWith('../') || isAbsolute(inside))
      throw new Error(`path "${path}" is not inside the volume`);
    await mkdir(dirname(file), { recursive: true });
    // Written beside and renamed into place, so a reader never sees a missing or partial file
    // while a refresh rewrites it.
    await writeFile(`${file}.tmp`, value, { mode });
    await rename(`${file}.tmp`, file);
  }
}

/** An object read from the API server, or undefined when it does not exist. */
export async function readOrMissing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function decodeSecret(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/** What configMap and secret volumes and projections have in common. */
interface VolumeRef {
  name?: string | undefined;
  optional?: boolean | undefined;
  items?: V1KeyToPath[] | undefined;
}

export class VolumeBuilder {
  private readonly core: CoreV1Api;
  constructor(core: CoreV1Api) {
    this.core = core;
  }

  private async configMap(
    namespace: string,
    name: string,
    optional: boolean | undefined,
  ): Promise<Record<string, string>> {
    const found = await readOrMissing(this.core.readNamespacedConfigMap({ name, namespace }));
    if (found === undefined && optional !== true) throw new Error(`configmap "${name}" not found`);
    return found?.data ?? {};
  }

  private async secret(
    namespace: string,
    name: string,
    optional: boolean | undefined,
  ): Promise<Record<string, string>> {
    const found = await readOrMissing(this.core.readNamespacedSecret({ name, namespace }));
    if (found === undefined && optional !== true) throw new Error(`secret "${name}" not found`);
    return decodeSecret(found?.data);
  }

  /** A configMap volume or projection: its keys (or the listed items) as files. */
  private async writeConfigMap(dir: string, namespace: string, ref: VolumeRef): Promise<void> {
    await writeItems(dir, await this.configMap(namespace, ref.name ?? '', ref.optional), ref.items);
  }

  /** A secret volume or projection: its decoded keys (or the listed items) as owner-only files. */
  private async writeSecret(dir: string, namespace: string, ref: VolumeRef): Promise<void> {
    await writeItems(dir, await this.secret(namespace, ref.name ?? '', ref.optional), ref.items, 0o600);
  }

  private async token(
    pod: V1Pod,
    audience: string | undefined,
    expirationSeconds: number,
  ): Promise<{ token: string; ttlMs: number }> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const response = await this.core.createNamespacedServiceAccountToken({
      name: pod.spec?.serviceAccountName ?? 'default',
      namespace,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          ...(audience === undefined ? { audiences: [] } : { audiences: [audience] }),
          expirationSeconds,
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.metadata?.name ?? '',
            uid: pod.metadata?.uid ?? '',
          },
        },
      },
    });
    const expires = response.status?.expirationTimestamp;
    const ttlMs = expires === undefined ? expirationSeconds * 1000 : new Date(expires).getTime() - Date.now();
    return { token: response.status?.token ?? '', ttlMs };
  }

  /** Fills every volume. `refresh` rewrites the files in place (the pod's mounts point at these
   * directories, so they must never be removed while it runs). */
  async prepare(pod: V1Pod, root: string, refresh = false): Promise<PreparedVolumes> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const paths = new Map<string, string>();
    let refreshInMs: number | undefined;
    for (const volume of pod.spec?.volumes ?? []) {
      const dir = join(root, 'volumes', volume.name);
      paths.set(volume.name, dir);
      if (volume.emptyDir !== undefined) {
        await mkdir(dir, { recursive: true });
        continue;
      }
      let ttl: number | undefined;
      try {
        if (!refresh) await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        ttl = await this.fill(pod, namespace, volume, dir);
      } catch (error) {
        // The kubelet's words: MountVolume.SetUp failed for volume "x" : configmap "y" not found.
        throw new Error(`MountVolume.SetUp failed for volume "${volume.name}": ${errorMessage(error)}`, {
          cause: error,
        });
      }
      if (ttl !== undefined) refreshInMs = Math.min(refreshInMs ?? Infinity, ttl * 0.8);
    }
    return refreshInMs === undefined ? { paths } : { paths, refreshInMs };
  }

  /** Fills one volume's directory; returns a token's lifetime in ms when it holds one. */
  private async fill(
    pod: V1Pod,
    namespace: string,
    volume: V1Volume,
    dir: string,
  ): Promise<number | undefined> {
    if (volume.configMap !== undefined) {
      await this.writeConfigMap(dir, namespace, volume.configMap);
    } else if (volume.secret !== undefined) {
      const { secretName, optional, items } = volume.secret;
      await this.writeSecret(dir, namespace, { name: secretName, optional, items });
    } else if (volume.projected !== undefined) {
      let ttl: number | undefined;
      for (const source of volume.projected.sources ?? []) {
        if (source.serviceAccountToken !== undefined) {
          const t = source.serviceAccountToken;
          const { token, ttlMs } = await this.token(pod, t.audience, t.expirationSeconds ?? 3607);
          await writeItems(dir, { [t.path]: token }, undefined, 0o600);
          ttl = Math.min(ttl ?? Infinity, ttlMs);
        } else if (source.configMap !== undefined) {
          await this.writeConfigMap(dir, namespace, source.configMap);
        } else if (source.secret !== undefined) {
          await this.writeSecret(dir, namespace, source.secret);
        } else if (source.downwardAPI !== undefined) {
          for (const item of source.downwardAPI.items ?? []) {
            const fieldPath = item.fieldRef?.fieldPath;
            const value =
              fieldPath === 'metadata.namespace'
                ? namespace
                : fieldPath === 'metadata.name'
                  ? (pod.metadata?.name ?? '')
                  : '';
            await writeItems(dir, { [item.path]: value }, undefined);
          }
        }
      }
      return ttl;
    }
    return undefined;
  }
}
