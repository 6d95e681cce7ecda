// Typed reading of a ConfigMap's string data with Knative's parsing rules: an absent key keeps
// its default, a present key must parse, and errors name the key in Knative's wording.
import { generic, keyPath, type FieldError } from '../field-error.ts';
import { parseGoDuration } from './go-duration.ts';

export type ConfigData = Readonly<Record<string, string>>;

const GO_BOOL: Record<string, boolean> = {
  '1': true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

const GO_FLOAT = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|[Ii]nf(inity)?|NaN)$/;
const INTEGER = /^[+-]?\d+$/;
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)(([KMGTPE]i)|[munkMGTPE]|[eE][+-]?\d+)?$/;

export function dataPath(key: string): string {
  return keyPath('data', key);
}

/** Reads keys in order and collects every parse error instead of stopping at the first. */
export class ConfigReader {
  readonly errors: FieldError[] = [];
  readonly data: ConfigData;

  constructor(data: ConfigData) {
    this.data = data;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.data, key);
  }

  fail(key: string, message: string, details?: string): void {
    this.errors.push(generic(message, dataPath(key), details));
  }

  /** The first of `keys` (legacy aliases last) that is present. */
  raw(...keys: string[]): { key: string; value: string } | undefined {
    for (const key of keys) {
      const value = this.data[key];
      if (value !== undefined) return { key, value };
    }
    return undefined;
  }

  string(key: string, fallback: string): string {
    return this.data[key] ?? fallback;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.data[key];
    if (value === undefined) return fallback;
    const parsed = GO_BOOL[value];
    if (parsed === undefined) {
      this.fail(
        key,
        `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
        'use "true" or "false"',
      );
      return fallback;
    }
    return parsed;
  }

  float(key: string, fallback: number): number {
    const value = this.data[key];
    if (value === undefined) return fallback;
    if (!GO_FLOAT.test(value.trim()) || value.trim() !== value) {
      this.fail(
        key,
        `failed to parse ${JSON.stringify(key)}: strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`,
      );
      return fallback;
    }
    return Number(value.replace(/^([+-]?)[Ii]nf(inity)?$/, '$1Infinity'));
  }

  int(key: string, fallback: number, bits: 32 | 64 = 64): number {
    const value = this.data[key];
    if (value === undefined) return fallback;
    if (!INTEGER.test(value)) {
      this.fail(
        key,
        `failed to parse ${JSON.stringify(key)}: strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`,
      );
      return fallback;
    }
    const parsed = Number(value);
    const limit = bits === 32 ? 2 ** 31 : 2 ** 63;
    if (parsed >= limit || parsed < -limit) {
      this.fail(
        key,
        `failed to parse ${JSON.stringify(key)}: strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`,
      );
      return fallback;
    }
    return parsed;
  }

  /** A Go duration, in milliseconds. */
  duration(key: string, fallbackMs: number): number {
    const value = this.data[key];
    if (value === undefined) return fallbackMs;
    const parsed = parseGoDuration(value);
    if (parsed === undefined) {
      this.fail(
        key,
        `failed to parse ${JSON.stringify(key)}: time: invalid duration ${JSON.stringify(value)}`,
        'use a Go duration such as "30s", "5m" or "1h30m"',
      );
      return fallbackMs;
    }
    return parsed;
  }

  quantity(key: string): string | undefined {
    const value = this.data[key];
    if (value === undefined) return undefined;
    if (!QUANTITY.test(value)) {
      this.fail(
        key,
        `failed to parse ${JSON.stringify(key)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
      );
      return undefined;
    }
    return value;
  }

  /**
   * Enabled / Disabled / Allowed flags, case-insensitive. Knative ignores an unknown value; ebb
   * keeps the default too but reports it, because a misspelt flag that silently does nothing is
   * hard to find.
   */
  flag<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.data[key];
    if (value === undefined) return fallback;
    const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (found === undefined) {
      this.fail(key, `invalid value: ${value}`, `expected one of: ${allowed.join(', ')}`);
      return fallback;
    }
    return found;
  }
}
