// A container's view of the filesystem, planned before it starts: what is bind-mounted where in
// its private mount namespace (its volumes, /etc/resolv.conf, /etc/hosts, a tmpfs at /run), and
// the shell that sets it up. Nothing is ever created on the host outside the pod's directory: a
// mount target missing from the host (`/hello/world`) gives the container a root of its own, a
// tmpfs holding bind mounts of the host's entries, where the missing directories are made instead.
// Planning is pure (the host is seen through HostFs); the script runs in the container's namespace.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';

export type EntryKind = 'dir' | 'file';

/** What planning needs to know of the host's filesystem. */
export interface HostFs {
  /** What `path` names, symlinks followed. */
  kind(path: string): EntryKind | 'missing';
  /** A directory's entries, symlinks not followed. */
  entries(dir: string): { name: string; kind: EntryKind | 'symlink' }[];
  /** An existing path with its symlinks resolved. */
  realpath(path: string): string;
}

/** The local host. Synchronous: a few stat calls per container start, on local disk. */
export const localHostFs: HostFs = {
  kind(path) {
    try {
      return statSync(path).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'missing';
    }
  },
  entries(dir) {
    return readdirSync(dir, { withFileTypes: true }).map((d) => ({
      name: d.name,
      kind: d.isSymbolicLink() ? 'symlink' : d.isDirectory() ? 'dir' : 'file',
    }));
  },
  realpath: (path) => realpathSync(path),
};

export interface ContainerMount {
  /** Names the mount in errors, e.g. `volume "config"`. */
  what: string;
  /** The host path mounted. */
  source: string;
  sourceKind: EntryKind;
  /** Where the container sees it. */
  target: string;
  readOnly: boolean;
}

export interface PlannedMount {
  what: string;
  /** Where the container sees it. */
  at: string;
  source: string;
  /** The mount point as the setup script sees it (under the container's root, if it has one). */
  target: string;
  /** Set when the mount point does not exist yet: the script makes it, inside the pod's own
   * directory (a volume), the container's /run tmpfs or its root's tmpfs. */
  create?: EntryKind;
  readOnly: boolean;
}

export interface BindEntry {
  source: string;
  target: string;
  /** Directories keep the mounts beneath them (/dev/pts, /sys/fs/cgroup). */
  recursive: boolean;
}

/** A root of the container's own: directories in a tmpfs, each holding the host directory's
 * entries as bind mounts (and its symlinks as copies), except where a mount point is missing. */
export interface RootSkeleton {
  dir: string;
  /** Directories made in the tmpfs, parents first. */
  dirs: string[];
  /** Empty files made as mount points for the host's files. */
  files: string[];
  /** Host symlinks copied as they are, grouped by the directory they are copied into. */
  symlinks: { into: string; sources: string[] }[];
  binds: BindEntry[];
}

export interface MountPlan {
  /** The container's private tmpfs at /run. */
  run: string;
  root?: RootSkeleton;
  /** In mount order: parents before what they contain. */
  mounts: PlannedMount[];
}

/** Where the container's own root is built: inside its private /run, which nothing else sees. */
export const CONTAINER_ROOT = '/run/ebb-root';

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}

function depth(path: string): number {
  return path === '/' ? 0 : path.split('/').length - 1;
}

/** The container path as the agent mounts it: normalised, and /var/run as /run (Kubernetes puts
 * secrets under /var/run, which is /run on every current distribution). */
export function containerPath(target: string): string {
  if (!target.startsWith('/')) throw new Error(`mount path "${target}" is not absolute`);
  const path = posix.normalize(target).replace(/(.)\/+$/, '$1');
  return within(path, '/var/run') ? `/run${path.slice('/var/run'.length)}` : path;
}

/** A volumeMount's source: the volume's directory, or the subPath inside it. */
export function subPathSource(volumeDir: string, subPath: string | undefined): string {
  if (subPath === undefined || subPath === '') return volumeDir;
  const clean = posix.normalize(subPath);
  if (subPath.startsWith('/') || clean === '..' || clean.startsWith('../'))
    throw new Error(`subPath "${subPath}" must be a relative path inside the volume`);
  return posix.join(volumeDir, clean);
}

interface Resolved {
  /** The target on the host, symlinks in its existing part resolved. */
  path: string;
  /** Its deepest existing part, resolved: the target itself when it exists. */
  existing: string;
  exists: boolean;
}

function resolveOnHost(what: string, target: string, host: HostFs): Resolved {
  const parts = target.split('/').filter((p) => p !== '');
  let prefix = '/';
  let i = 0;
  for (; i < parts.length; i++) {
    const next = posix.join(prefix, parts[i] ?? '');
    const kind = host.kind(next);
    if (kind === 'missing') break;
    if (kind === 'file' && i < parts.length - 1)
      throw new Error(`${what} at ${target}: ${next} is a file, not a directory`);
    prefix = next;
  }
  const existing = host.realpath(prefix);
  return { path: posix.join(existing, ...parts.slice(i)), existing, exists: i === parts.length };
}

/** The host directories from / down to `dir`. */
function ancestry(dir: string): string[] {
  const out = ['/'];
  for (const part of dir.split('/').filter((p) => p !== ''))
    out.push(posix.join(out[out.length - 1] ?? '/', part));
  return out;
}

/**
 * Plans a container's mounts. A target inside an earlier directory mount is made in that volume
 * (the pod's own directory), one under /run in the container's tmpfs, and one that exists on the
 * host with the source's kind is mounted over as it is. Any other target needs a mount point the
 * host does not have, and the container gets its own root (see RootSkeleton): the host
 * directories on the way to it are rebuilt in a tmpfs, entry by entry, and it is made there.
 */
export function planMounts(mounts: readonly ContainerMount[], host: HostFs): MountPlan {
  const ordered = mounts
    .map((m, index) => ({ ...m, target: containerPath(m.target), index }))
    .sort((a, b) => depth(a.target) - depth(b.target) || a.index - b.index);
  /** Directory mounts so far: their container path and where they are on the host. */
  const dirMounts: { target: string; path: string }[] = [];
  /** Host directories the container's root rebuilds entry by entry. */
  const rebuilt = new Set<string>();
  /** Host entries the rebuilt directories leave out: a mount point of another kind goes there. */
  const replaced = new Set<string>();
  const planned: { mount: PlannedMount; path: string }[] = [];
  for (const m of ordered) {
    const { path, create } = mountPoint(m, dirMounts, host, rebuilt, replaced);
    const mount: PlannedMount = {
      what: m.what,
      at: m.target,
      source: m.source,
      target: path,
      readOnly: m.readOnly,
    };
    planned.push({ mount: create === undefined ? mount : { ...mount, create }, path });
    if (m.sourceKind === 'dir') dirMounts.push({ target: m.target, path });
  }
  if (rebuilt.size === 0) return { run: '/run', mounts: planned.map((p) => p.mount) };
  const root = CONTAINER_ROOT;
  const inRoot = (path: string) => (path === '/' ? root : `${root}${path}`);
  return {
    run: inRoot('/run'),
    root: skeleton(root, rebuilt, replaced, host),
    mounts: planned.map((p) => ({ ...p.mount, target: inRoot(p.path) })),
  };
}

/** Where one mount goes on the host, and whether its mount point has to be made (recording the
 * host directories that then need rebuilding in the container's own root). */
function mountPoint(
  m: ContainerMount,
  dirMounts: readonly { target: string; path: string }[],
  host: HostFs,
  rebuilt: Set<string>,
  replaced: Set<string>,
): { path: string; create?: EntryKind } {
  const parent = dirMounts.findLast((d) => within(m.target, d.target) && d.target !== m.target);
  if (parent !== undefined)
    return { path: posix.join(parent.path, posix.relative(parent.target, m.target)), create: m.sourceKind };
  if (within(m.target, '/run')) return { path: m.target, create: m.sourceKind };
  const resolved = resolveOnHost(m.what, m.target, host);
  const { path } = resolved;
  if (resolved.exists && host.kind(path) === m.sourceKind) return { path };
  if (within(path, '/run')) return { path, create: m.sourceKind };
  if (path === '/') throw new Error(`${m.what}: a file cannot be mounted over /`);
  // Missing: the directories down to its deepest existing one are rebuilt (leaving out a dangling
  // symlink in its way). Of another kind (a file where a directory is mounted): its parent is,
  // leaving it out.
  const last = resolved.exists ? posix.dirname(path) : resolved.existing;
  for (const dir of ancestry(last)) rebuilt.add(dir);
  replaced.add(resolved.exists ? path : posix.join(last, posix.relative(last, path).split('/')[0] ?? ''));
  return { path, create: m.sourceKind };
}

function skeleton(
  root: string,
  rebuilt: ReadonlySet<string>,
  replaced: ReadonlySet<string>,
  host: HostFs,
): RootSkeleton {
  const inRoot = (path: string) => (path === '/' ? root : `${root}${path}`);
  const out: RootSkeleton = { dir: root, dirs: [], files: [], symlinks: [], binds: [] };
  for (const dir of [...rebuilt].sort((a, b) => depth(a) - depth(b) || a.localeCompare(b))) {
    out.dirs.push(inRoot(dir));
    const links: string[] = [];
    const entries = host.entries(dir).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = posix.join(dir, entry.name);
      // The container's /run is a tmpfs of its own, mounted by the script.
      if (path === '/run') {
        out.dirs.push(inRoot(path));
        continue;
      }
      if (rebuilt.has(path) || replaced.has(path)) continue;
      if (entry.kind === 'symlink') links.push(path);
      else {
        (entry.kind === 'dir' ? out.dirs : out.files).push(inRoot(path));
        out.binds.push({ source: path, target: inRoot(path), recursive: entry.kind === 'dir' });
      }
    }
    if (links.length > 0) out.symlinks.push({ into: inRoot(dir), sources: links });
  }
  if (!out.dirs.includes(inRoot('/run'))) out.dirs.push(inRoot('/run'));
  return out;
}

/** fstab's fields are separated by blanks: those and backslashes are written as octal escapes. */
function fstabField(value: string): string {
  return value.replace(/[\\\s]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** The skeleton's bind mounts as an fstab: one `mount -a` mounts them all (a `mount` process per
 * entry costs about 2 ms, and / alone has some 25). */
export function skeletonFstab(root: RootSkeleton): string {
  return root.binds
    .map(
      (b) => `${fstabField(b.source)} ${fstabField(b.target)} none ${b.recursive ? 'rbind' : 'bind'} 0 0\n`,
    )
    .join('');
}

export interface SetupFiles {
  /** Where the script finds the skeleton's fstab (written by the agent from skeletonFstab). */
  fstab: string;
  /** The setup's stderr. */
  log: string;
  /** Where a failed setup leaves its log, with the step that failed as the last line. */
  failed: string;
}

/** Exit code of a container whose setup failed, as `docker run` uses it for its own failures. */
export const SETUP_FAILED_EXIT = 125;

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell run in the container's new mount namespace (as `sh -c script ebb-container cmd...`):
 * it mounts what the plan says, then execs the command from EBB_WORKDIR, in the container's own
 * root if it has one. A failed step exits with SETUP_FAILED_EXIT and leaves `files.failed`.
 */
export function setupScript(plan: MountPlan, files: SetupFiles): string {
  const steps: string[] = [];
  const step = (what: string, ...commands: string[]) => {
    steps.push(`ebb_step=${q(what)}`, ...commands);
  };
  const root = plan.root;
  if (root === undefined) {
    step('/run', `mount -t tmpfs -o mode=0755 tmpfs /run`);
  } else {
    step(
      `the container's root at ${root.dir}`,
      'mount -t tmpfs -o mode=0755 tmpfs /run',
      `mkdir -p ${root.dirs.map(q).join(' ')}`,
      ...root.files.map((f) => `: >> ${q(f)}`),
      ...root.symlinks.map((s) => `cp -P ${s.sources.map(q).join(' ')} ${q(`${s.into}/`)}`),
      ...(root.binds.length === 0 ? [] : [`mount -a -T ${q(files.fstab)}`]),
      `mount -t tmpfs -o mode=0755 tmpfs ${q(plan.run)}`,
    );
  }
  for (const m of plan.mounts) {
    const target = q(m.target);
    const create =
      m.create === 'dir'
        ? [`mkdir -p ${target}`]
        : m.create === 'file'
          ? [`mkdir -p ${q(posix.dirname(m.target))}`, `: >> ${target}`]
          : [];
    step(`${m.what} at ${m.at}`, ...create, `mount --bind ${q(m.source)} ${target}`);
  }
  // Read-only last: a mount point may still have to be made inside a volume mounted read-only.
  for (const m of plan.mounts.filter((p) => p.readOnly))
    step(`${m.what} at ${m.at} (read-only)`, `mount -o remount,bind,ro ${q(m.target)}`);
  const exec = 'cd "$EBB_WORKDIR" && unset EBB_WORKDIR && exec "$@"';
  return [
    '{',
    steps.join(' &&\n'),
    `} 2>${q(files.log)} || { printf '%s\\n' "$ebb_step" >> ${q(files.log)}; mv ${q(files.log)} ${q(files.failed)}; exit ${SETUP_FAILED_EXIT}; }`,
    root === undefined ? exec : `exec chroot ${q(root.dir)} /bin/sh -c ${q(exec)} ebb-container "$@"`,
  ].join('\n');
}

/** A failed setup's message from what it left in `files.failed`: the step, then what it printed. */
export function setupFailure(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    // util-linux's hint after every failed mount says nothing about this one.
    .filter((l) => l !== '' && !l.startsWith('dmesg(1) may have more information'));
  const step = lines.pop() ?? '';
  const output = lines.join(' ');
  return output === '' ? `mounting ${step} failed` : `mounting ${step}: ${output}`;
}
