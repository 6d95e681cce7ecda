// Go's time.Duration text form, which Knative's ConfigMaps and annotations use ("60s", "1m30s",
// "1.5h"). Durations are held as milliseconds; Go's nanosecond precision is kept to 1e-6 ms.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses like Go's time.ParseDuration; returns milliseconds, or undefined when invalid. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== '') {
    const match = part.exec(rest);
    if (match === null) return undefined;
    const [whole, amount, unit] = match as unknown as [string, string, string];
    total += Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
    rest = rest.slice(whole.length);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

function trimFraction(value: number): string {
  return Number(value.toFixed(9)).toString();
}

/** Formats like Go's Duration.String(): "0s", "1.5ms", "6s", "1m0s", "1h0m0s", "1m1.984s". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1) {
    if (abs < 1e-3) return `${sign}${trimFraction(abs * 1e6)}ns`;
    return `${sign}${trimFraction(abs * 1e3)}µs`;
  }
  if (abs < 1000) return `${sign}${trimFraction(abs)}ms`;
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const seconds = trimFraction((abs % 60_000) / 1000);
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/** True when the duration is a whole number of seconds, as Knative requires for windows. */
export function isWholeSeconds(ms: number): boolean {
  return Math.abs(ms / 1000 - Math.round(ms / 1000)) < 1e-9;
}
