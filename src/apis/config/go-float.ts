// Floating-point numbers as Go's strconv reads them and fmt prints them, for the values Knative
// parses with strconv.ParseFloat (ConfigMap keys, annotations) and the messages that show them.

const DIGITS = String.raw`\d(?:_?\d)*`;
const DECIMAL = new RegExp(
  String.raw`^[+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);
const HEX = /^([+-]?)0[xX]((?:_?[0-9a-fA-F])*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;
const SPECIAL = /^([+-]?)(inf|infinity)$|^nan$/i;

/** strconv.ParseFloat(s, 64): undefined where Go returns an error (bad syntax, or out of range). */
export function parseGoFloat(s: string): number | undefined {
  const special = SPECIAL.exec(s);
  if (special !== null) {
    if (special[2] === undefined) return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  let value: number;
  const hex = HEX.exec(s);
  if (hex !== null) {
    const [, sign = '', whole = '', fraction = '', exponent = '0'] = hex;
    const digits = `${whole.replaceAll('_', '')}${fraction}`;
    if (digits === '') return undefined;
    value = Number.parseInt(digits, 16) * 2 ** (Number(exponent) - 4 * fraction.length);
    if (sign === '-') value = -value;
  } else if (DECIMAL.test(s)) {
    value = Number(s.replaceAll('_', ''));
  } else {
    return undefined;
  }
  return Number.isFinite(value) ? value : undefined;
}

/** fmt's %v of a float64: the shortest digits, in exponent form below 1e-4 and from 1e6 (as
 * strconv's 'g' format with the shortest precision). */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa = '', exp = '0'] = value.toExponential().split('e');
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 6) {
    const digits =
      exponent < 0 ? `-${String(-exponent).padStart(2, '0')}` : `+${exp.replace('+', '').padStart(2, '0')}`;
    return `${mantissa}e${digits}`;
  }
  return String(value);
}
