// Removes optional dependencies that the registry these machines reach does not serve (other
// platforms' native builds of @swc/core and unrs-resolver) from package-lock.json. npm writes
// them into their parents' optionalDependencies without an entry of their own, and `npm ci` then
// refuses the lockfile as out of sync. Run after `npm install`: `npm run lock:prune`.
import { readFile, writeFile } from 'node:fs/promises';

interface LockEntry {
  optionalDependencies?: Record<string, string>;
}

const path = new URL('../../package-lock.json', import.meta.url);
const lock = JSON.parse(await readFile(path, 'utf8')) as { packages: Record<string, LockEntry> };
const removed: string[] = [];
for (const [at, entry] of Object.entries(lock.packages)) {
  const optional = entry.optionalDependencies;
  if (optional === undefined) continue;
  for (const name of Object.keys(optional)) {
    const nested = `${at === '' ? '' : `${at}/`}node_modules/${name}`;
    if (!(nested in lock.packages) && !(`node_modules/${name}` in lock.packages)) {
      Reflect.deleteProperty(optional, name);
      removed.push(name);
    }
  }
  if (Object.keys(optional).length === 0) delete entry.optionalDependencies;
}
await writeFile(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  removed.length === 0
    ? 'lockfile already consistent'
    : `removed ${removed.length} unavailable optional dependencies`,
);
