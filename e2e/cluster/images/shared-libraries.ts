// The shared libraries a host binary loads, as layer entries, so a dynamically linked program
// (Node) runs in an image with no distribution in it. Each library sits at the path the loader
// looks for, and every symlink on the way is kept: the ELF interpreter /lib64/ld-linux-x86-64.so.2
// is a link, and a link left dangling fails the exec with "no such file or directory".
import { lstat, readlink, realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { CommandError, sh } from '../shell.ts';
import type { LayerEntry } from './oci-layer.ts';

// A chain longer than this is a loop; the kernel gives up at 40 too.
const MAX_LINKS = 40;

/** The absolute library paths in `ldd`'s output: `name => /path (addr)` and the bare interpreter
 * line `/lib64/ld-linux-x86-64.so.2 (addr)`. The vDSO has no file and is left out. */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const match = /^\s*(?:\S+\s+=>\s+)?(\/\S+)\s+\(0x[0-9a-f]+\)\s*$/.exec(line);
    if (match?.[1] !== undefined) paths.push(match[1]);
    else if (/=>\s+not found/.test(line)) throw new Error(`ldd: ${line.trim()}`);
  }
  return paths;
}

async function ldd(binary: string): Promise<string[]> {
  try {
    return parseLdd(await sh('ldd', [binary]));
  } catch (error) {
    // A static binary needs nothing; ldd says so and exits 1.
    if (error instanceof CommandError && error.stderr.includes('not a dynamic executable')) return [];
    throw error;
  }
}

/**
 * Entries for `path` as the host resolves it: each symlink in the chain as a symlink, and the file
 * at the end. A relative link target with `..` is made absolute (from the link's real directory),
 * because the image has real directories where the host may have links (/lib -> usr/lib) and `..`
 * would then lead elsewhere.
 */
export async function linkChainEntries(path: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  let current = path;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    const stats = await lstat(current);
    if (stats.isFile()) {
      entries.push({
        path: current,
        kind: 'file',
        mode: stats.mode & 0o7777,
        source: await realpath(current),
      });
      return entries;
    }
    if (!stats.isSymbolicLink()) throw new Error(`${current}: neither a file nor a symlink`);
    let target = await readlink(current);
    if (!target.startsWith('/') && target.split('/').includes('..'))
      target = posix.resolve(await realpath(posix.dirname(current)), target);
    entries.push({ path: current, kind: 'symlink', target });
    current = posix.resolve(posix.dirname(current), target);
  }
  throw new Error(`${path}: more than ${MAX_LINKS} symlinks`);
}

/** Entries for every shared library the binaries load, each path once. */
export async function sharedLibraryEntries(binaries: readonly string[]): Promise<LayerEntry[]> {
  const byPath = new Map<string, LayerEntry>();
  for (const binary of binaries)
    for (const library of await ldd(binary))
      for (const entry of await linkChainEntries(library)) byPath.set(entry.path, entry);
  return [...byPath.values()];
}
