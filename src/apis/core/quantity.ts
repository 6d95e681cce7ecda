// Kubernetes resource quantities ("500m", "1.5Gi", "1e3", 2) read exactly, as apimachinery's
// resource.Quantity reads them. The controller compares two spellings of one value with them; the
// local cluster's node agent turns a memory limit into the bytes it enforces.

/** value = digits × 10^exponent, exactly. */
export interface ExactQuantity {
  digits: bigint;
  exponent: number;
}

const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+)|([KMGTPE])i|([numkMGTPE]))?$/;
const DECIMAL_EXPONENT: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_POWER: Readonly<Record<string, bigint>> = { K: 1n, M: 2n, G: 3n, T: 4n, P: 5n, E: 6n };
/** Beyond this an exponent is nonsense for a resource. */
const MAX_EXPONENT = 64;

/** A Kubernetes quantity ("500m", "1.5Gi", "1e3", 2) as an exact decimal; undefined if not one. */
export function parseQuantity(value: unknown): ExactQuantity | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const m = QUANTITY.exec(text);
  if (m === null) return undefined;
  const [, sign = '', number = '', exp, binary, decimal] = m;
  const [whole = '', fraction = ''] = number.split('.');
  let digits = BigInt(`${whole}${fraction}` || '0');
  let exponent = fraction.length === 0 ? 0 : -fraction.length;
  if (exp !== undefined) exponent += Number(exp);
  if (decimal !== undefined) exponent += DECIMAL_EXPONENT[decimal] ?? 0;
  if (binary !== undefined) digits *= 1024n ** (BINARY_POWER[binary] ?? 0n);
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  return { digits: sign === '-' ? -digits : digits, exponent };
}

/** The quantity as a whole number, rounded up as resource.Quantity's Value() rounds it ("0.5" is
 * 1): the bytes a memory quantity stands for. */
export function quantityValue(q: ExactQuantity): bigint {
  if (q.exponent >= 0) return q.digits * 10n ** BigInt(q.exponent);
  const divisor = 10n ** BigInt(-q.exponent);
  const whole = q.digits / divisor;
  return q.digits > 0n && whole * divisor !== q.digits ? whole + 1n : whole;
}
