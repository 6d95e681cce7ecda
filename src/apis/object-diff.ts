// Structural comparison of plain JSON objects, used for immutability checks and their messages.
import { formatPath } from './decode.ts';

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** One line per changed leaf, `-old +new`, for error details; at most `limit` lines. */
export function describeChanges(before: Json, after: Json, limit = 10): string {
  const lines: string[] = [];
  const walk = (a: Json, b: Json, path: PropertyKey[]): void => {
    if (lines.length >= limit || deepEqual(a, b)) return;
    if (isObject(a) && isObject(b)) {
      for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
        walk(a[k], b[k], [...path, k]);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((v, i) => {
        walk(v, b[i], [...path, i]);
      });
      return;
    }
    const show = (v: Json) => (v === undefined ? '<unset>' : JSON.stringify(v));
    lines.push(`${formatPath(path) || '<root>'}: -${show(a)} +${show(b)}`);
  };
  walk(before, after, []);
  return lines.join('\n');
}
