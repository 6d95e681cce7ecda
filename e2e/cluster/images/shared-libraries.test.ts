import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linkChainEntries, parseLdd } from './shared-libraries.ts';

describe('parseLdd', () => {
  it('takes resolved paths and the interpreter, not the vDSO', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd5e9f2000)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f2e35400000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2e3513e000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f2e35675000)',
      '',
    ].join('\n');
    expect(parseLdd(output)).toEqual([
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('fails on a library the host does not have', () => {
    expect(() => parseLdd('\tlibgone.so.1 => not found\n')).toThrow('libgone.so.1 => not found');
  });
});

describe('linkChainEntries', () => {
  // A merged-/usr host in miniature: lib -> usr/lib, a loader link into it, and library links.
  let root: string;
  beforeAll(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'ebb-libs-')));
    await mkdir(join(root, 'usr/lib/x'), { recursive: true });
    await mkdir(join(root, 'usr/lib/y'), { recursive: true });
    await mkdir(join(root, 'lib64'));
    await symlink('usr/lib', join(root, 'lib'));
    await writeFile(join(root, 'usr/lib/x/ld.so'), 'loader');
    await writeFile(join(root, 'usr/lib/x/libfoo.so.1.2'), 'foo');
    await writeFile(join(root, 'usr/lib/y/libbar.real'), 'bar');
    // Set, not left to the umask: the entries carry the host file's mode.
    for (const file of ['usr/lib/x/ld.so', 'usr/lib/x/libfoo.so.1.2', 'usr/lib/y/libbar.real'])
      await chmod(join(root, file), 0o644);
    await symlink(join(root, 'lib/x/ld.so'), join(root, 'lib64/ld.so'));
    await symlink('libfoo.so.1.2', join(root, 'usr/lib/x/libfoo.so.1'));
    await symlink('../y/libbar.real', join(root, 'usr/lib/x/libbar.so'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps an absolute link and puts the file where it points', async () => {
    expect(await linkChainEntries(join(root, 'lib64/ld.so'))).toEqual([
      { path: join(root, 'lib64/ld.so'), kind: 'symlink', target: join(root, 'lib/x/ld.so') },
      { path: join(root, 'lib/x/ld.so'), kind: 'file', mode: 0o644, source: join(root, 'usr/lib/x/ld.so') },
    ]);
  });

  it('keeps a sibling link as it is', async () => {
    expect(await linkChainEntries(join(root, 'lib/x/libfoo.so.1'))).toEqual([
      { path: join(root, 'lib/x/libfoo.so.1'), kind: 'symlink', target: 'libfoo.so.1.2' },
      {
        path: join(root, 'lib/x/libfoo.so.1.2'),
        kind: 'file',
        mode: 0o644,
        source: join(root, 'usr/lib/x/libfoo.so.1.2'),
      },
    ]);
  });

  it('makes a `..` link absolute from the real directory, where the host resolves it', async () => {
    expect(await linkChainEntries(join(root, 'lib/x/libbar.so'))).toEqual([
      { path: join(root, 'lib/x/libbar.so'), kind: 'symlink', target: join(root, 'usr/lib/y/libbar.real') },
      {
        path: join(root, 'usr/lib/y/libbar.real'),
        kind: 'file',
        mode: 0o644,
        source: join(root, 'usr/lib/y/libbar.real'),
      },
    ]);
  });
});
