// Configuration files the local cluster's daemons read. kube-proxy exits when its configuration
// file is written, even with the same bytes, so `cluster up` rewrites a file only when its content
// changes: re-running it over a running cluster then restarts nothing it need not.
import { readFile, writeFile } from 'node:fs/promises';

/** Writes `content` to `path` unless the file already holds exactly that; true when it wrote. */
export async function writeIfChanged(path: string, content: string, mode?: number): Promise<boolean> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === content) return false;
  await writeFile(path, content, mode === undefined ? {} : { mode });
  return true;
}
