// Validation errors as values with a path, in the vocabulary of knative.dev/pkg's FieldError so
// that users see the messages they already search for. Paths are built top-down by callers.

export interface FieldError {
  /** What is wrong, in Knative's wording where Knative has one. */
  readonly message: string;
  /** The fields the error is about, e.g. `spec.traffic[1].percent`. Empty means the whole object. */
  readonly paths: readonly string[];
  /** Optional advice on how to fix it. */
  readonly details?: string;
  /** A warning is reported (kubectl prints it) but does not reject the object. */
  readonly level?: 'warning';
}

export function fieldPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

export function keyPath(parent: string, key: string): string {
  return `${parent}[${key}]`;
}

export function generic(message: string, paths: string | readonly string[], details?: string): FieldError {
  const list = typeof paths === 'string' ? [paths] : paths;
  return details === undefined ? { message, paths: list } : { message, paths: list, details };
}

/** The same error at warning level (Knative's `.At(apis.WarningLevel)`). */
export function asWarning(error: FieldError): FieldError {
  return { ...error, level: 'warning' };
}

/** Errors that reject the object, and warnings that only inform. */
export function splitLevels(errors: readonly FieldError[]): { errors: FieldError[]; warnings: FieldError[] } {
  return {
    errors: errors.filter((e) => e.level !== 'warning'),
    warnings: errors.filter((e) => e.level === 'warning'),
  };
}

export function missingField(...paths: string[]): FieldError {
  return generic('missing field(s)', paths);
}

export function disallowedFields(...paths: string[]): FieldError {
  return generic('must not set the field(s)', paths);
}

export function invalidValue(value: unknown, path: string, details?: string): FieldError {
  return generic(`invalid value: ${String(value)}`, path, details);
}

export function multipleOneOf(...paths: string[]): FieldError {
  return generic('expected exactly one, got both', paths);
}

export function missingOneOf(...paths: string[]): FieldError {
  return generic('expected exactly one, got neither', paths);
}

export function outOfBounds(value: unknown, lower: unknown, upper: unknown, path: string): FieldError {
  return generic(`expected ${String(lower)} <= ${String(value)} <= ${String(upper)}`, path);
}

export function invalidKeyName(key: string, path: string, details?: string): FieldError {
  return generic(`invalid key name ${JSON.stringify(key)}`, path, details);
}

/**
 * Knative's canonical form: errors with the same message and details become one, with their
 * paths de-duplicated and sorted; errors are then sorted by message and details. The order in
 * which checks ran therefore never changes what a user sees.
 */
export function normalizeErrors(errors: readonly FieldError[]): FieldError[] {
  const merged = new Map<
    string,
    { message: string; details?: string; level?: 'warning'; paths: Set<string> }
  >();
  for (const e of errors) {
    const key = `${e.message}\u0000${e.details ?? ''}\u0000${e.level ?? ''}`;
    let entry = merged.get(key);
    if (entry === undefined) {
      entry = {
        message: e.message,
        ...(e.details === undefined ? {} : { details: e.details }),
        ...(e.level === undefined ? {} : { level: e.level }),
        paths: new Set(),
      };
      merged.set(key, entry);
    }
    for (const p of e.paths) entry.paths.add(p);
  }
  const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...merged.values()]
    .map((e) => ({ ...e, paths: [...e.paths].sort(byteOrder) }))
    .sort(
      (a, b) =>
        byteOrder(a.message, b.message) ||
        byteOrder(a.details ?? '', b.details ?? '') ||
        byteOrder(a.level ?? '', b.level ?? ''),
    );
}

/** Prefixes every path of `errors` with `parent` (Knative's ViaField). */
export function under(parent: string, errors: readonly FieldError[]): FieldError[] {
  return errors.map((e) => ({
    ...e,
    paths: e.paths.map((p) =>
      p === '' ? parent : p.startsWith('[') ? `${parent}${p}` : fieldPath(parent, p),
    ),
  }));
}

/** One line per error: `path1, path2: message (details)`. */
export function formatFieldError(error: FieldError): string {
  const where = error.paths.length > 0 ? `${error.paths.join(', ')}: ` : '';
  const details = error.details === undefined || error.details === '' ? '' : ` (${error.details})`;
  return `${where}${error.message}${details}`;
}

/**
 * Knative's own rendering (`message: paths` then details on the next line), which the
 * admission webhook returns so that `kubectl apply` shows what Knative would.
 */
export function formatKnative(errors: readonly FieldError[]): string {
  return errors
    .map((e) => {
      const head = e.paths.length > 0 ? `${e.message}: ${e.paths.join(', ')}` : e.message;
      return e.details === undefined || e.details === '' ? head : `${head}\n${e.details}`;
    })
    .join('\n');
}
