// Where the local cluster keeps its binaries, state and logs: one directory, default
// ~/.cache/ebb, overridable with EBB_CACHE_DIR.
import { existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { nodeVersionKey, versionKey } from './versions.ts';

export const CACHE_DIR = process.env.EBB_CACHE_DIR ?? join(homedir(), '.cache', 'ebb');
export const BIN_DIR = join(CACHE_DIR, 'bin', versionKey());
/** kubelet, containerd and the rest of a node; CNI plugins in its `cni/` directory. */
export const NODE_BIN_DIR = join(CACHE_DIR, 'bin', nodeVersionKey());
export const CNI_BIN_DIR = join(NODE_BIN_DIR, 'cni');
export const BUILD_DIR = join(CACHE_DIR, 'build');
export const STATE_DIR = join(CACHE_DIR, 'cluster');
/** The images the local registry serves; a cache, kept across `cluster:down`. */
export const IMAGE_STORE_DIR = join(CACHE_DIR, 'images');

export const BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubectl',
  'coredns',
  'helm',
] as const;
export type Binary = (typeof BINARIES)[number];

export function binary(name: Binary): string {
  return join(BIN_DIR, name);
}

export const NODE_BINARIES = [
  'kubelet',
  'containerd',
  'ctr',
  'containerd-shim-runc-v2',
  'pause',
  'cni/bridge',
  'cni/host-local',
  'cni/loopback',
  'cni/portmap',
] as const;
export type NodeBinary = (typeof NODE_BINARIES)[number];

export function nodeBinary(name: NodeBinary): string {
  return join(NODE_BIN_DIR, name);
}

/** The local cluster's build of a client tool when there is one, else the tool on PATH (on a
 * cluster the suites did not build, such as kind in CI). */
export function tool(name: 'kubectl' | 'helm'): string {
  return existsSync(binary(name)) ? binary(name) : name;
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
