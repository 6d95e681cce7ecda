// Reads Kubernetes manifests from files, directories and stdin, keeping each document's file and
// line so that every problem can point at its source. Broken YAML becomes a located error.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';

export interface ManifestDocument {
  file: string;
  /** 1-based line where the document starts. */
  line: number;
  value: unknown;
}

export interface SyntaxProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ManifestSet {
  documents: ManifestDocument[];
  syntax: SyntaxProblem[];
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Expands directories (sorted, optionally recursive) into the manifest files inside them. */
export async function expandPaths(paths: readonly string[], recursive: boolean): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (path === '-') {
      files.push(path);
      continue;
    }
    const info = await stat(path);
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        if (recursive) files.push(...(await expandPaths([child], true)));
      } else if (MANIFEST_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
        files.push(child);
      }
    }
  }
  return files;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses one file's text; `List` objects are flattened into their items. */
export function parseManifests(file: string, text: string): ManifestSet {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const out: ManifestSet = { documents: [], syntax: [] };
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const pos = lines.linePos(error.pos[0]);
        out.syntax.push({
          file,
          line: pos.line,
          column: pos.col,
          message: error.message.split('\n')[0] ?? '',
        });
      }
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const line = lines.linePos(doc.contents?.range[0] ?? 0).line;
    if (isList(value)) {
      for (const item of value.items) out.documents.push({ file, line, value: item });
    } else {
      out.documents.push({ file, line, value });
    }
  }
  return out;
}

function isList(value: unknown): value is { items: unknown[] } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items);
}

export async function readManifests(files: readonly string[]): Promise<ManifestSet> {
  const out: ManifestSet = { documents: [], syntax: [] };
  for (const file of files) {
    const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    const parsed = parseManifests(file === '-' ? '<stdin>' : file, text);
    out.documents.push(...parsed.documents);
    out.syntax.push(...parsed.syntax);
  }
  return out;
}
