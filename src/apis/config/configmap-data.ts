// Typed reading of a ConfigMap's string data with Knative's parsing rules: an absent key keeps
// its default, a present key must parse, and errors name the key in Knative's wording. A recording
// reader also lists each key a parser reads, with its default, for the configuration reference.
import { generic, keyPath, type FieldError } from '../field-error.ts';
import { formatGoDuration, parseGoDuration } from './go-duration.ts';
import { parseGoFloat } from './go-float.ts';

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

const INTEGER = /^[+-]?\d+$/;
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)(([KMGTPE]i)|[munkMGTPE]|[eE][+-]?\d+)?$/;

export function dataPath(key: string): string {
  return keyPath('data', key);
}

/** A key a parser reads, as the configuration reference lists it. */
export interface ConfigKeyRead {
  key: string;
  /** The form of the value: "duration", "integer", "Enabled, Disabled or Allowed", ... */
  type: string;
  /** What an absent key means, spelt as in the ConfigMap; undefined when it means "not set". */
  fallback: string | undefined;
  /** The legacy name the key is also read under, if any. */
  legacyName: string | undefined;
}

/** "a", "a or b", "a, b or c". */
export function oneOf(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/** Reads keys in order and collects every parse error instead of stopping at the first. */
export class ConfigReader {
  readonly errors: FieldError[] = [];
  readonly data: ConfigData;
  /**
   * Only a recording reader has these. Each read records through `keysRead?.push(...)`, so an
   * ordinary reader does not even build the record.
   */
  readonly keysRead: ConfigKeyRead[] | undefined;
  private readonly legacyNames: Map<string, string> | undefined;

  constructor(data: ConfigData, recording = false) {
    this.data = data;
    this.keysRead = recording ? [] : undefined;
    this.legacyNames = recording ? new Map() : undefined;
  }

  /** A reader over an empty ConfigMap that lists every key a parser reads, with its default. */
  static recording(): ConfigReader {
    return new ConfigReader({}, true);
  }

  /** Parsers take data, or a reader (a recording one, for the reference). */
  static of(input: ConfigData | ConfigReader): ConfigReader {
    return input instanceof ConfigReader ? input : new ConfigReader(input);
  }

  private describe(key: string, type: string, fallback: string | undefined): ConfigKeyRead {
    return { key, type, fallback, legacyName: this.legacyNames?.get(key) };
  }

  has(key: string): boolean {
    return Object.hasOwn(this.data, key);
  }

  fail(key: string, message: string, details?: string): void {
    this.errors.push(generic(message, dataPath(key), details));
  }

  /** Which of a key and its legacy camelCase name to read: the legacy one only when it alone is set. */
  alias(key: string, legacyName: string): string {
    this.legacyNames?.set(key, legacyName);
    return this.has(key) || !this.has(legacyName) ? key : legacyName;
  }

  /**
   * The raw value, for keys a parser checks itself; `type` and `fallback` describe the key for the
   * reference only.
   */
  lookup(key: string, type: string, fallback?: string): string | undefined {
    this.keysRead?.push(this.describe(key, type, fallback));
    return this.data[key];
  }

  string(key: string, fallback: string, type = 'string'): string {
    this.keysRead?.push(this.describe(key, type, fallback));
    return this.data[key] ?? fallback;
  }

  bool(key: string, fallback: boolean): boolean {
    this.keysRead?.push(this.describe(key, 'boolean', String(fallback)));
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
    this.keysRead?.push(this.describe(key, 'number', String(fallback)));
    const value = this.data[key];
    if (value === undefined) return fallback;
    const parsed = parseGoFloat(value);
    if (parsed === undefined) {
      this.fail(
        key,
        `failed to parse ${JSON.stringify(key)}: strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`,
      );
      return fallback;
    }
    return parsed;
  }

  int(key: string, fallback: number, bits: 32 | 64 = 64): number {
    this.keysRead?.push(this.describe(key, 'integer', String(fallback)));
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
    this.keysRead?.push(this.describe(key, 'duration', formatGoDuration(fallbackMs)));
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

  /** A Kubernetes quantity such as "100m" or "128Mi"; absent means not set. */
  quantity(key: string): string | undefined {
    this.keysRead?.push(this.describe(key, 'quantity', undefined));
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
    this.keysRead?.push(this.describe(key, oneOf(allowed), fallback));
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
