// RFC 6902 JSON Patch from two JSON documents: the operations that turn `before` into `after`,
// as the defaulting webhook returns them to the API server. Objects are diffed key by key and
// arrays index by index (appending or truncating at the end), so a patch touches only what changed.

export type JsonPatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

/** RFC 6901 §3: `~` becomes `~0` and `/` becomes `~1`, in that order. */
export function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys whose value is present; an `undefined` member does not exist once serialised. */
function presentKeys(obj: JsonObject): string[] {
  return Object.keys(obj).filter((k) => obj[k] !== undefined);
}

function diff(before: unknown, after: unknown, path: string, ops: JsonPatchOperation[]): void {
  if (isObject(before) && isObject(after)) {
    for (const key of presentKeys(before)) {
      const child = `${path}/${escapePointerToken(key)}`;
      if (after[key] === undefined) ops.push({ op: 'remove', path: child });
      else diff(before[key], after[key], child, ops);
    }
    for (const key of presentKeys(after)) {
      if (before[key] === undefined)
        ops.push({ op: 'add', path: `${path}/${escapePointerToken(key)}`, value: after[key] });
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const common = Math.min(before.length, after.length);
    for (let i = 0; i < common; i++) diff(before[i], after[i], `${path}/${i}`, ops);
    for (let i = common; i < after.length; i++)
      ops.push({ op: 'add', path: `${path}/${i}`, value: after[i] });
    // Highest index first, so every remove names an element that still exists.
    for (let i = before.length - 1; i >= common; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
    return;
  }
  if (before === after) return;
  ops.push({ op: 'replace', path, value: after });
}

/** The operations that turn `before` into `after`; empty when they are equal. */
export function createPatch(before: unknown, after: unknown): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  diff(before, after, '', ops);
  return ops;
}
