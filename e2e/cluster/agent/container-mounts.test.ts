// A container's mounts: a target the host has is mounted over as it is; one it lacks gets the
// container a root of its own where the mount point is made, and nothing is ever created on the
// host outside the pod's directory. The script is run for real by the e2e suite node-agent.
import { describe, expect, it } from '@jest/globals';
import { posix } from 'node:path';
import {
  CONTAINER_ROOT as R,
  containerPath,
  planMounts,
  setupFailure,
  setupScript,
  skeletonFstab,
  subPathSource,
  type ContainerMount,
  type HostFs,
} from './container-mounts.ts';

type FakeEntry = 'dir' | 'file' | { symlink: string };

/** An in-memory host: absolute path → what is there. */
function fakeHost(tree: Record<string, FakeEntry>): HostFs {
  const resolve = (path: string, hops = 0): string | undefined => {
    let out = '/';
    for (const part of path.split('/').filter((p) => p !== '')) {
      const next = posix.join(out, part);
      const node = tree[next];
      if (node === undefined) return undefined;
      if (typeof node === 'object') {
        if (hops > 8) return undefined;
        const target = resolve(posix.resolve(out, node.symlink), hops + 1);
        if (target === undefined) return undefined;
        out = target;
      } else out = next;
    }
    return out;
  };
  return {
    kind(path) {
      const real = resolve(path);
      if (real === undefined) return 'missing';
      return real === '/' || tree[real] === 'dir' ? 'dir' : 'file';
    },
    entries(dir) {
      return Object.entries(tree)
        .filter(([p]) => p !== dir && posix.dirname(p) === dir)
        .map(([p, node]) => ({
          name: posix.basename(p),
          kind: typeof node === 'object' ? 'symlink' : node,
        }));
    },
    realpath(path) {
      const real = resolve(path);
      if (real === undefined) throw new Error(`ENOENT: ${path}`);
      return real;
    },
  };
}

const host = fakeHost({
  '/bin': { symlink: 'usr/bin' },
  '/etc': 'dir',
  '/etc/hosts': 'file',
  '/etc/resolv.conf': 'file',
  '/etc/ssl': 'dir',
  '/etc/mtab': { symlink: '../proc/self/mounts' },
  '/proc': 'dir',
  '/run': 'dir',
  '/tmp': 'dir',
  '/tmp/pod': 'dir',
  '/usr': 'dir',
  '/usr/bin': 'dir',
  '/usr/lib': 'dir',
  '/lib': { symlink: 'usr/lib' },
  '/var': 'dir',
  '/var/run': { symlink: '/run' },
  '/data': 'dir',
  '/stale': { symlink: '/nowhere' },
});

function mount(target: string, sourceKind: 'dir' | 'file' = 'dir', extra: Partial<ContainerMount> = {}) {
  return {
    what: `volume "${posix.basename(target)}"`,
    source: `/tmp/pod/volumes/${posix.basename(target)}`,
    sourceKind,
    target,
    readOnly: false,
    ...extra,
  };
}

const builtins: ContainerMount[] = [
  {
    what: '/etc/resolv.conf',
    source: '/tmp/pod/resolv.conf',
    sourceKind: 'file',
    target: '/etc/resolv.conf',
    readOnly: false,
  },
  { what: '/etc/hosts', source: '/tmp/pod/hosts', sourceKind: 'file', target: '/etc/hosts', readOnly: false },
];

describe('containerPath', () => {
  it('normalises, and puts /var/run under /run', () => {
    expect(containerPath('/var/run/secrets/kubernetes.io/serviceaccount/')).toBe(
      '/run/secrets/kubernetes.io/serviceaccount',
    );
    expect(containerPath('/hello//world/../there')).toBe('/hello/there');
    expect(containerPath('/var/runner')).toBe('/var/runner');
    expect(() => containerPath('hello')).toThrow('mount path "hello" is not absolute');
  });
});

describe('subPathSource', () => {
  it('joins a relative subPath and refuses one that leaves the volume', () => {
    expect(subPathSource('/p/v', undefined)).toBe('/p/v');
    expect(subPathSource('/p/v', '')).toBe('/p/v');
    expect(subPathSource('/p/v', 'a/b')).toBe('/p/v/a/b');
    expect(subPathSource('/p/v', 'a/../b')).toBe('/p/v/b');
    expect(() => subPathSource('/p/v', '../x')).toThrow(
      'subPath "../x" must be a relative path inside the volume',
    );
    expect(() => subPathSource('/p/v', 'a/../../x')).toThrow('must be a relative path');
    expect(() => subPathSource('/p/v', '/etc')).toThrow('must be a relative path');
  });
});

describe('planMounts', () => {
  it('mounts over targets the host has, and makes the ones under /run in its tmpfs, without a root of its own', () => {
    const plan = planMounts(
      [...builtins, mount('/data'), mount('/var/run/secrets/kubernetes.io/serviceaccount')],
      host,
    );
    expect(plan.root).toBeUndefined();
    expect(plan.run).toBe('/run');
    expect(plan.mounts.map((m) => [m.target, m.create])).toEqual([
      ['/data', undefined],
      ['/etc/resolv.conf', undefined],
      ['/etc/hosts', undefined],
      ['/run/secrets/kubernetes.io/serviceaccount', 'dir'],
    ]);
  });

  it("makes a mount point inside an earlier directory mount, which is the pod's own volume", () => {
    const plan = planMounts([mount('/data/cache/x', 'file'), mount('/data')], host);
    expect(plan.root).toBeUndefined();
    expect(plan.mounts.map((m) => [m.target, m.create])).toEqual([
      ['/data', undefined],
      ['/data/cache/x', 'file'],
    ]);
  });

  it("gives a container whose target is missing from the host a root of its own (Knative's /hello/world)", () => {
    const plan = planMounts(
      [...builtins, mount('/hello/world', 'file', { readOnly: true, what: 'volume "secret"' })],
      host,
    );
    expect(plan.run).toBe(`${R}/run`);
    expect(plan.mounts).toEqual([
      {
        what: '/etc/resolv.conf',
        at: '/etc/resolv.conf',
        source: '/tmp/pod/resolv.conf',
        target: `${R}/etc/resolv.conf`,
        readOnly: false,
      },
      {
        what: '/etc/hosts',
        at: '/etc/hosts',
        source: '/tmp/pod/hosts',
        target: `${R}/etc/hosts`,
        readOnly: false,
      },
      {
        what: 'volume "secret"',
        at: '/hello/world',
        source: '/tmp/pod/volumes/world',
        target: `${R}/hello/world`,
        create: 'file',
        readOnly: true,
      },
    ]);
    // Only / is rebuilt: its directories and files are bind mounts of the host's, its symlinks
    // copies, /run a tmpfs of the container's; the stale symlink is copied as it is.
    expect(plan.root).toEqual({
      dir: R,
      dirs: [R, `${R}/data`, `${R}/etc`, `${R}/proc`, `${R}/run`, `${R}/tmp`, `${R}/usr`, `${R}/var`],
      files: [],
      symlinks: [{ into: R, sources: ['/bin', '/lib', '/stale'] }],
      binds: ['/data', '/etc', '/proc', '/tmp', '/usr', '/var'].map((p) => ({
        source: p,
        target: `${R}${p}`,
        recursive: true,
      })),
    });
  });

  it('rebuilds each host directory on the way to a missing target, and only those', () => {
    const plan = planMounts([...builtins, mount('/etc/settings')], host);
    const root = plan.root;
    expect(root?.dirs).toEqual([
      R,
      `${R}/data`,
      `${R}/proc`,
      `${R}/run`,
      `${R}/tmp`,
      `${R}/usr`,
      `${R}/var`,
      `${R}/etc`,
      `${R}/etc/ssl`,
    ]);
    expect(root?.files).toEqual([`${R}/etc/hosts`, `${R}/etc/resolv.conf`]);
    expect(root?.symlinks).toEqual([
      { into: R, sources: ['/bin', '/lib', '/stale'] },
      { into: `${R}/etc`, sources: ['/etc/mtab'] },
    ]);
    expect(root?.binds.map((b) => [b.source, b.recursive])).toEqual([
      ['/data', true],
      ['/proc', true],
      ['/tmp', true],
      ['/usr', true],
      ['/var', true],
      ['/etc/hosts', false],
      ['/etc/resolv.conf', false],
      ['/etc/ssl', true],
    ]);
    expect(plan.mounts.map((m) => [m.target, m.create])).toEqual([
      [`${R}/etc/resolv.conf`, undefined],
      [`${R}/etc/hosts`, undefined],
      [`${R}/etc/settings`, 'dir'],
    ]);
  });

  it("follows the host's symlinks to where the mount point is made", () => {
    const plan = planMounts([mount('/lib/extra/mod')], host);
    expect(plan.root?.dirs).toContain(`${R}/usr/bin`);
    expect(plan.root?.binds.map((b) => b.source)).toEqual([
      '/data',
      '/etc',
      '/proc',
      '/tmp',
      '/var',
      '/usr/bin',
    ]);
    expect(plan.mounts.map((m) => [m.target, m.create])).toEqual([[`${R}/usr/lib/extra/mod`, 'dir']]);
  });

  it('puts a mount point of the other kind where the host has a file or a dangling symlink', () => {
    const overFile = planMounts([mount('/etc/hosts', 'dir')], host);
    expect(overFile.root?.files).toEqual([`${R}/etc/resolv.conf`]);
    expect(overFile.mounts.map((m) => [m.target, m.create])).toEqual([[`${R}/etc/hosts`, 'dir']]);
    const overStale = planMounts([mount('/stale/x')], host);
    expect(overStale.root?.symlinks).toEqual([{ into: R, sources: ['/bin', '/lib'] }]);
    expect(overStale.mounts.map((m) => [m.target, m.create])).toEqual([[`${R}/stale/x`, 'dir']]);
  });

  it('refuses a target beneath a host file, naming the mount', () => {
    expect(() => planMounts([mount('/etc/hosts/x')], host)).toThrow(
      'volume "x" at /etc/hosts/x: /etc/hosts is a file, not a directory',
    );
  });
});

describe('setupScript', () => {
  const files = { fstab: '/tmp/pod/c.fstab', log: '/tmp/pod/c.setup', failed: '/tmp/pod/c.setup-failed' };

  it("mounts in the host's root when it can, read-only last, and execs the command in the working directory", () => {
    const plan = planMounts([...builtins.slice(0, 1), mount('/data', 'dir', { readOnly: true })], host);
    expect(setupScript(plan, files)).toBe(
      [
        '{',
        "ebb_step='/run' &&",
        'mount -t tmpfs -o mode=0755 tmpfs /run &&',
        'ebb_step=\'volume "data" at /data\' &&',
        "mount --bind '/tmp/pod/volumes/data' '/data' &&",
        "ebb_step='/etc/resolv.conf at /etc/resolv.conf' &&",
        "mount --bind '/tmp/pod/resolv.conf' '/etc/resolv.conf' &&",
        'ebb_step=\'volume "data" at /data (read-only)\' &&',
        "mount -o remount,bind,ro '/data'",
        "} 2>'/tmp/pod/c.setup' || { printf '%s\\n' \"$ebb_step\" >> '/tmp/pod/c.setup'; mv '/tmp/pod/c.setup' '/tmp/pod/c.setup-failed'; exit 125; }",
        'cd "$EBB_WORKDIR" && unset EBB_WORKDIR && exec "$@"',
      ].join('\n'),
    );
  });

  it('builds a root of its own, makes the mount points in it, and chroots', () => {
    const plan = planMounts([mount("/it's here", 'file')], host);
    const script = setupScript(plan, files);
    expect(script).toContain(`mkdir -p '${R}' '${R}/data'`);
    expect(script).toContain(`cp -P '/bin' '/lib' '/stale' '${R}/'`);
    expect(script).toContain(
      `mount -a -T '/tmp/pod/c.fstab' &&\nmount -t tmpfs -o mode=0755 tmpfs '${R}/run'`,
    );
    expect(script).toContain(`mkdir -p '${R}' &&\n: >> '${R}/it'\\''s here' &&\nmount --bind`);
    expect(script.split('\n').at(-1)).toBe(
      `exec chroot '${R}' /bin/sh -c 'cd "$EBB_WORKDIR" && unset EBB_WORKDIR && exec "$@"' ebb-container "$@"`,
    );
  });
});

describe('skeletonFstab', () => {
  it('escapes blanks and backslashes', () => {
    expect(
      skeletonFstab({
        dir: R,
        dirs: [],
        files: [],
        symlinks: [],
        binds: [
          { source: '/a b', target: `${R}/a b`, recursive: true },
          { source: '/c\\d', target: `${R}/c\\d`, recursive: false },
        ],
      }),
    ).toBe(`/a\\040b ${R}/a\\040b none rbind 0 0\n/c\\134d ${R}/c\\134d none bind 0 0\n`);
  });
});

describe('setupFailure', () => {
  it('names the step, then what it printed', () => {
    expect(setupFailure('mount: /x: special device /y does not exist.\nvolume "v" at /x\n')).toBe(
      'mounting volume "v" at /x: mount: /x: special device /y does not exist.',
    );
    expect(setupFailure('volume "v" at /x\n')).toBe('mounting volume "v" at /x failed');
    expect(
      setupFailure(
        'mount: /r/x: special device /y does not exist.\n       dmesg(1) may have more information after failed mount system call.\nvolume "v" at /x\n',
      ),
    ).toBe('mounting volume "v" at /x: mount: /r/x: special device /y does not exist.');
  });
});
