// The largest value recorded over a sliding time window, in 2 s slots: the KPA's scale-down delay
// keeps the highest recent decision until it has been out of the window for the whole delay.

/** Slot width; the decider ticks every 2 s, so one decision lands in each slot. */
export const DELAY_GRANULARITY_MS = 2000;

interface Entry {
  slot: number;
  value: number;
}

/**
 * A monotonic queue: values are kept in decreasing order, since a value followed by a larger one
 * can never be the maximum again. Record and current are amortised O(1).
 */
export class MaxTimeWindow {
  readonly #granularityMs: number;
  #slots: number;
  #entries: Entry[] = [];

  constructor(durationMs: number, granularityMs = DELAY_GRANULARITY_MS) {
    this.#granularityMs = granularityMs;
    this.#slots = Math.max(1, Math.ceil(durationMs / granularityMs));
  }

  /** Records `value` at `now`; times must not go backwards. */
  record(now: number, value: number): void {
    const slot = Math.floor(now / this.#granularityMs);
    const entries = this.#entries;
    while (entries.length > 0 && (entries[entries.length - 1]?.value ?? 0) <= value) entries.pop();
    // An entry leaves once it is a whole window of slots old.
    let expired = 0;
    while (expired < entries.length && slot - (entries[expired]?.slot ?? slot) >= this.#slots) expired++;
    if (expired > 0) entries.splice(0, expired);
    entries.push({ slot, value });
  }

  /** The maximum in the window as of the last record; 0 before any record. */
  current(): number {
    return this.#entries[0]?.value ?? 0;
  }

  /** Changes the window length; entries outside the new window leave on the next record. */
  resize(durationMs: number): void {
    this.#slots = Math.max(1, Math.ceil(durationMs / this.#granularityMs));
  }
}
