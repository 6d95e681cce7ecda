// Strict decoding of untrusted objects with the zod schemas, turning zod's issues into
// FieldErrors with Knative-style paths. Knative's webhook decodes with unknown fields
// disallowed, so a misspelt field is an error here too, never silently dropped.
import type { z } from 'zod';
import { fieldPath, generic, indexPath, keyPath, type FieldError } from './field-error.ts';

export type Decoded<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `['spec', 'traffic', 0, 'percent']` → `spec.traffic[0].percent`; odd keys go in brackets. */
export function formatPath(parts: readonly PropertyKey[], base = ''): string {
  let out = base;
  for (const part of parts) {
    if (typeof part === 'number') out = indexPath(out, part);
    else {
      const key = String(part);
      out = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? fieldPath(out, key) : keyPath(out, key);
    }
  }
  return out;
}

const EXPECTED_NAMES: Record<string, string> = { int: 'integer', number: 'number', object: 'object' };

function issueToError(issue: z.core.$ZodIssue, base: string): FieldError[] {
  const path = formatPath(issue.path, base);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) =>
        generic(
          `unknown field ${JSON.stringify(key)}`,
          formatPath([key], path),
          'remove it, or check its spelling and indentation',
        ),
      );
    case 'invalid_type': {
      const expected = EXPECTED_NAMES[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return [generic('missing field(s)', path)];
      return [generic(`expected ${expected}, got ${describeType(issue.input)}`, path)];
    }
    case 'invalid_value':
      return [
        generic(
          `invalid value: ${JSON.stringify(issue.input)}`,
          path,
          `expected one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        ),
      ];
    case 'invalid_union':
      return [generic(`invalid value: expected integer or string, got ${describeType(issue.input)}`, path)];
    case 'invalid_format':
      return [generic(`invalid value: expected ${issue.format}`, path)];
    default:
      return [generic(issue.message, path)];
  }
}

export function decode<S extends z.ZodType>(schema: S, input: unknown, base = ''): Decoded<z.output<S>> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: result.error.issues.flatMap((issue) => issueToError(issue, base)) };
}

function removeAt(root: unknown, path: readonly PropertyKey[], keys: readonly string[]): void {
  let node: unknown = root;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  if (typeof node !== 'object' || node === null) return;
  for (const key of keys) Reflect.deleteProperty(node, key);
}

/**
 * Like decode, but when the only problems are unknown fields it also returns the value decoded
 * without them, so that callers can report every other problem in the same pass.
 */
export function decodeLenient<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { errors: FieldError[]; value?: z.output<S> } {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return { errors: [], value: result.data };
  const issues = result.error.issues;
  const errors = issues.flatMap((issue) => issueToError(issue, ''));
  const unknownFields = issues.filter(
    (i): i is z.core.$ZodIssueUnrecognizedKeys => i.code === 'unrecognized_keys',
  );
  if (unknownFields.length !== issues.length) return { errors };
  const copy: unknown = structuredClone(input);
  for (const issue of unknownFields) removeAt(copy, issue.path, issue.keys);
  const retry = schema.safeParse(copy);
  return retry.success ? { errors, value: retry.data } : { errors };
}
