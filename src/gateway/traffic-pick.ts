// Picks one revision from a route's percent split for a single request. The random source is a
// parameter so tests can fix it; the gateway passes Math.random.

/** A number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/**
 * A target chosen with probability percent / (sum of percents). Targets at 0 % or below never win;
 * undefined when no target has a share. The percents need not add up to 100.
 */
export function pickTarget<T extends { readonly percent: number }>(
  targets: readonly T[],
  random: RandomSource = Math.random,
): T | undefined {
  let total = 0;
  let last: T | undefined;
  for (const t of targets) {
    if (t.percent > 0) {
      total += t.percent;
      last = t;
    }
  }
  if (last === undefined) return undefined;
  // One candidate (the common 100 % case) needs no random number.
  if (last.percent === total) return last;
  let point = random() * total;
  for (const t of targets) {
    if (t.percent <= 0) continue;
    point -= t.percent;
    if (point < 0) return t;
  }
  // Only reachable through rounding when random() is just below 1.
  return last;
}
