import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  entryHeaders,
  normalizeEntries,
  paxRecord,
  tarHeader,
  writeLayer,
  type LayerEntry,
} from './oci-layer.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebb-oci-layer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const longPath = `/opt/${'d'.repeat(60)}/${'f'.repeat(60)}.txt`;
const longTarget = `/${'t'.repeat(120)}`;

async function sampleEntries(): Promise<LayerEntry[]> {
  const source = join(dir, 'source.bin');
  await writeFile(source, Buffer.alloc(1000, 7));
  return [
    { path: '/usr/local/bin/tool', kind: 'file', mode: 0o755, source },
    { path: '/etc/passwd', kind: 'file', mode: 0o644, source: Buffer.from('root:x:0:0::/:/x\n') },
    { path: '/tmp', kind: 'dir', mode: 0o1777 },
    { path: '/home/nonroot', kind: 'dir', mode: 0o700, uid: 65532, gid: 65532 },
    { path: '/lib64/ld.so', kind: 'symlink', target: '/usr/local/bin/tool' },
    { path: longPath, kind: 'file', mode: 0o600, source: Buffer.from('long\n') },
    { path: '/long-link', kind: 'symlink', target: longTarget },
  ];
}

function octal(block: Buffer, offset: number, length: number): number {
  return parseInt(block.toString('latin1', offset, offset + length).replace(/\0.*$/s, ''), 8);
}

describe('tarHeader', () => {
  it('encodes the fields and a checksum that tar readers accept', () => {
    const block = tarHeader({
      name: 'etc/passwd',
      mode: 0o644,
      uid: 65532,
      gid: 7,
      size: 1234,
      typeflag: '0',
    });
    expect(block.length).toBe(512);
    expect(block.toString('latin1', 0, 10)).toBe('etc/passwd');
    expect(octal(block, 100, 8)).toBe(0o644);
    expect(octal(block, 108, 8)).toBe(65532);
    expect(octal(block, 116, 8)).toBe(7);
    expect(octal(block, 124, 12)).toBe(1234);
    expect(octal(block, 136, 12)).toBe(0);
    expect(block.toString('latin1', 257, 265)).toBe('ustar\u000000');
    const stored = octal(block, 148, 8);
    const copy = Buffer.from(block);
    copy.fill(0x20, 148, 156);
    expect(stored).toBe(copy.reduce((sum, byte) => sum + byte, 0));
  });
});

describe('paxRecord', () => {
  it.each([1, 2, 3, 85, 86, 87, 88, 89, 90, 994, 995, 996, 997])(
    'counts its own length (value of %i bytes)',
    (n) => {
      const record = paxRecord('path', 'x'.repeat(n));
      const [length] = record.split(' ', 1);
      expect(Buffer.byteLength(record)).toBe(Number(length));
      expect(record.endsWith('\n')).toBe(true);
    },
  );

  it('is used only for names and link targets longer than 100 bytes', () => {
    const short = entryHeaders(
      { path: `/${'a'.repeat(100)}`, kind: 'file', mode: 0o644, source: Buffer.alloc(0) },
      0,
    );
    expect(short).toHaveLength(1);
    const long = entryHeaders({ path: `/${'a'.repeat(101)}`, kind: 'symlink', target: longTarget }, 0);
    expect(long).toHaveLength(3);
    expect(long[0]?.toString('latin1', 156, 157)).toBe('x');
    expect(long[1]?.toString('utf8')).toContain(` path=${'a'.repeat(101)}\n`);
    expect(long[1]?.toString('utf8')).toContain(` linkpath=${longTarget}\n`);
  });
});

describe('normalizeEntries', () => {
  it('adds missing parents and sorts so each directory comes before its contents', () => {
    const paths = normalizeEntries([
      { path: '/b/c/file', kind: 'file', mode: 0o644, source: Buffer.alloc(0) },
      { path: '/a-b', kind: 'dir', mode: 0o755 },
      { path: '/a/x/', kind: 'dir', mode: 0o700 },
    ]).map((e) => e.path);
    expect(paths).toEqual(['/a', '/a-b', '/a/x', '/b', '/b/c', '/b/c/file']);
  });

  it.each<[string, LayerEntry[], string]>([
    ['a relative path', [{ path: 'etc/x', kind: 'dir', mode: 0o755 }], 'etc/x: path must be absolute'],
    [
      'a path given twice',
      [
        { path: '/x', kind: 'dir', mode: 0o755 },
        { path: '/x', kind: 'symlink', target: '/y' },
      ],
      '/x: given twice',
    ],
    [
      'a file as a parent',
      [
        { path: '/x', kind: 'file', mode: 0o644, source: Buffer.alloc(0) },
        { path: '/x/y', kind: 'dir', mode: 0o755 },
      ],
      'parent /x is not a directory',
    ],
  ])('rejects %s', (_, entries, message) => {
    expect(() => normalizeEntries(entries)).toThrow(message);
  });
});

describe('writeLayer', () => {
  it('writes a tar that GNU tar lists and extracts as given', async () => {
    const out = join(dir, 'layer.tar');
    const blob = await writeLayer(await sampleEntries(), out);
    const bytes = await readFile(out);
    expect(blob).toEqual({
      digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      size: bytes.length,
    });
    expect(bytes.length % 512).toBe(0);

    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', out], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.replace(/\s+/g, ' '));
    expect(listing).toEqual([
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 etc/',
      '-rw-r--r-- 0/0 17 1970-01-01 00:00 etc/passwd',
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 home/',
      'drwx------ 65532/65532 0 1970-01-01 00:00 home/nonroot/',
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 lib64/',
      'lrwxrwxrwx 0/0 0 1970-01-01 00:00 lib64/ld.so -> /usr/local/bin/tool',
      `lrwxrwxrwx 0/0 0 1970-01-01 00:00 long-link -> ${longTarget}`,
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 opt/',
      `drwxr-xr-x 0/0 0 1970-01-01 00:00 opt/${'d'.repeat(60)}/`,
      `-rw------- 0/0 5 1970-01-01 00:00 ${longPath.slice(1)}`,
      'drwxrwxrwt 0/0 0 1970-01-01 00:00 tmp/',
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 usr/',
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 usr/local/',
      'drwxr-xr-x 0/0 0 1970-01-01 00:00 usr/local/bin/',
      '-rwxr-xr-x 0/0 1000 1970-01-01 00:00 usr/local/bin/tool',
    ]);

    const root = join(dir, 'root');
    await mkdir(root);
    execFileSync('tar', ['-xf', out, '-C', root]);
    expect(await readFile(join(root, longPath), 'utf8')).toBe('long\n');
    expect(await readFile(join(root, 'usr/local/bin/tool'))).toEqual(Buffer.alloc(1000, 7));
    expect(await readlink(join(root, 'long-link'))).toBe(longTarget);
    expect((await stat(join(root, 'usr/local/bin/tool'))).mode & 0o777).toBe(0o755);
  });

  it('gives the same bytes for the same entries in any order', async () => {
    const entries = await sampleEntries();
    const first = await writeLayer(entries, join(dir, 'first.tar'));
    const second = await writeLayer([...entries].reverse(), join(dir, 'second.tar'));
    expect(second).toEqual(first);
    const changed = await writeLayer(
      entries.map((e) => (e.path === '/tmp' ? { ...e, mode: 0o755 } : e)),
      join(dir, 'changed.tar'),
    );
    expect(changed.digest).not.toBe(first.digest);
  });
});
