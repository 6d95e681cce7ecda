// Writes an image layer as an uncompressed tar (ustar, with PAX records for long names), the same
// bytes for the same input: entries sorted, times zero, owners numeric. Files stream from disk,
// so a layer holding the 126 MB Node binary never sits in memory.
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';

export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';

interface EntryBase {
  /** Absolute path inside the image. */
  path: string;
  uid?: number;
  gid?: number;
}
export interface DirEntry extends EntryBase {
  kind: 'dir';
  mode: number;
}
export interface FileEntry extends EntryBase {
  kind: 'file';
  mode: number;
  /** A host file (read when the layer is written) or the content itself. */
  source: string | Buffer;
}
export interface SymlinkEntry extends EntryBase {
  kind: 'symlink';
  target: string;
}
export type LayerEntry = DirEntry | FileEntry | SymlinkEntry;

/** A blob as the store and manifests name it. For an uncompressed layer the digest is also its
 * diffID. */
export interface BlobRef {
  digest: string;
  size: number;
}

const BLOCK = 512;
// The largest value an 11-digit octal field holds; beyond it the value goes in a PAX record.
const OCTAL_11_MAX = 0o77777777777;
const OCTAL_7_MAX = 0o7777777;

/**
 * The entries as the layer holds them: paths normalised, every missing parent directory added
 * (root-owned, 0755) and sorted, which puts each directory before its contents. Two entries for
 * one path are an error unless they are the same directory.
 */
export function normalizeEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    if (!entry.path.startsWith('/')) throw new Error(`layer entry ${entry.path}: path must be absolute`);
    const path = posix.normalize(entry.path).replace(/\/+$/, '');
    if (path === '') throw new Error('layer entry /: the root is implied, not an entry');
    const normalized = { ...entry, path };
    const existing = byPath.get(path);
    if (existing !== undefined && !sameDirectory(existing, normalized))
      throw new Error(`layer entry ${path}: given twice`);
    byPath.set(path, normalized);
  }
  for (const path of [...byPath.keys()]) {
    for (let dir = posix.dirname(path); dir !== '/'; dir = posix.dirname(dir)) {
      const existing = byPath.get(dir);
      if (existing === undefined) byPath.set(dir, { path: dir, kind: 'dir', mode: 0o755 });
      else if (existing.kind !== 'dir')
        throw new Error(`layer entry ${path}: parent ${dir} is not a directory`);
    }
  }
  // Byte order, not locale order, so the layer does not depend on the machine's settings.
  return [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

function sameDirectory(a: LayerEntry, b: LayerEntry): boolean {
  return (
    a.kind === 'dir' &&
    b.kind === 'dir' &&
    a.mode === b.mode &&
    (a.uid ?? 0) === (b.uid ?? 0) &&
    (a.gid ?? 0) === (b.gid ?? 0)
  );
}

export interface TarHeaderFields {
  /** The name as tar stores it: relative, directories ending in `/`. */
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** '0' file, '2' symlink, '5' directory, 'x' PAX extended header. */
  typeflag: '0' | '2' | '5' | 'x';
  linkname?: string;
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  // A value that does not fit is cut; the caller has put the full value in a PAX record.
  Buffer.from(value).copy(block, offset, 0, length);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  // Zero-padded digits and a terminating NUL, as GNU tar and Go's archive/tar write them.
  const digits = length - 1;
  const text = value.toString(8);
  block.write(text.length > digits ? '0'.repeat(digits) : text.padStart(digits, '0'), offset, 'latin1');
}

/** One 512-byte ustar header block. */
export function tarHeader(fields: TarHeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, fields.name);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, fields.uid);
  writeOctal(block, 116, 8, fields.gid);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, 0);
  block.write(fields.typeflag, 156, 'latin1');
  writeString(block, 157, 100, fields.linkname ?? '');
  block.write('ustar\u000000', 257, 'latin1');
  // The checksum is computed with its own field read as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

/** One PAX record, `<length> <key>=<value>\n`, where the length counts its own digits. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  let length = bodyLength + String(bodyLength).length;
  // Adding the length's digits can add a digit to the length.
  if (String(length).length !== length - bodyLength) length = bodyLength + String(length).length;
  return `${length}${body}`;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The header blocks for an entry: a PAX header first when a value does not fit ustar. */
export function entryHeaders(entry: LayerEntry, size: number): Buffer[] {
  const name = entry.path.slice(1) + (entry.kind === 'dir' ? '/' : '');
  const linkname = entry.kind === 'symlink' ? entry.target : '';
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  const records: string[] = [];
  if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', name));
  if (Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', linkname));
  if (size > OCTAL_11_MAX) records.push(paxRecord('size', String(size)));
  if (uid > OCTAL_7_MAX) records.push(paxRecord('uid', String(uid)));
  if (gid > OCTAL_7_MAX) records.push(paxRecord('gid', String(gid)));
  const blocks: Buffer[] = [];
  if (records.length > 0) {
    const pax = Buffer.from(records.join(''));
    const paxName = `PaxHeaders.0/${posix.basename(name)}`;
    blocks.push(tarHeader({ name: paxName, mode: 0o644, uid: 0, gid: 0, size: pax.length, typeflag: 'x' }));
    blocks.push(Buffer.concat([pax, Buffer.alloc(padding(pax.length))]));
  }
  const typeflag = entry.kind === 'dir' ? '5' : entry.kind === 'symlink' ? '2' : '0';
  const mode = entry.kind === 'symlink' ? 0o777 : entry.mode & 0o7777;
  blocks.push(tarHeader({ name, mode, uid, gid, size, typeflag, linkname }));
  return blocks;
}

/** The tar's bytes go to a file and a sha256 at once, counted. */
class HashingWriter {
  size = 0;
  private readonly hash: Hash = createHash('sha256');
  private readonly out: FileHandle;
  constructor(out: FileHandle) {
    this.out = out;
  }

  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.out.write(chunk, written, chunk.length - written);
      written += bytesWritten;
    }
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

// One buffer for all file copies: hash.update has consumed a chunk before the next read reuses it.
const COPY_CHUNK = 1024 * 1024;

/** Writes one entry: its headers, then a file's content padded to whole blocks. */
async function writeEntry(entry: LayerEntry, writer: HashingWriter, buffer: Buffer): Promise<void> {
  if (entry.kind !== 'file') {
    for (const block of entryHeaders(entry, 0)) await writer.write(block);
    return;
  }
  if (typeof entry.source !== 'string') {
    for (const block of entryHeaders(entry, entry.source.length)) await writer.write(block);
    await writer.write(entry.source);
    await writer.write(Buffer.alloc(padding(entry.source.length)));
    return;
  }
  const input = await open(entry.source, 'r');
  try {
    const stats = await input.stat();
    if (!stats.isFile()) throw new Error(`${entry.source}: not a regular file`);
    for (const block of entryHeaders(entry, stats.size)) await writer.write(block);
    let remaining = stats.size;
    while (remaining > 0) {
      const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.length, remaining), null);
      if (bytesRead === 0) throw new Error(`${entry.source}: shrank while it was written into a layer`);
      await writer.write(buffer.subarray(0, bytesRead));
      remaining -= bytesRead;
    }
    await writer.write(Buffer.alloc(padding(stats.size)));
  } finally {
    await input.close();
  }
}

/** Writes the layer's tar to `out` and returns its digest and size. */
export async function writeLayer(entries: readonly LayerEntry[], out: string): Promise<BlobRef> {
  const normalized = normalizeEntries(entries);
  const handle = await open(out, 'w');
  try {
    const writer = new HashingWriter(handle);
    const buffer = Buffer.allocUnsafe(COPY_CHUNK);
    for (const entry of normalized) await writeEntry(entry, writer, buffer);
    // The end of the archive: two zero blocks.
    await writer.write(Buffer.alloc(2 * BLOCK));
    return { digest: writer.digest(), size: writer.size };
  } finally {
    await handle.close();
  }
}
