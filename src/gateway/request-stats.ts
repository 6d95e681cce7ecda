// What the gateway tells the autoscaler about each revision, after Knative's RequestStats
// (knative.dev/networking pkg/http/stats) and the activator's ConcurrencyReporter: time-weighted
// average concurrency and request count per report period, plus an immediate stat for the first
// request of an idle revision so it scales from zero without waiting for the next report. Time is
// passed in (milliseconds); sending the stats is the caller's job.

export interface StatValues {
  averageConcurrency: number;
  /** Requests started in the period (not a rate; the gateway reports once a second). */
  requestCount: number;
}

export interface RevisionStat extends StatValues {
  key: string;
}

/** What the caller sends right away when requestStarted returns true. */
export const FIRST_REQUEST_STAT: Readonly<StatValues> = Object.freeze({
  averageConcurrency: 1,
  requestCount: 1,
});

/** One key's concurrency integrated over time since the last report. */
export class RequestStats {
  #concurrency = 0;
  #lastChange: number;
  #requestCount = 0;
  /** Σ concurrency × dt since the last report, in request·ms. */
  #weighted = 0;
  /** Time covered since the last report, in ms. */
  #elapsed = 0;

  constructor(now: number) {
    this.#lastChange = now;
  }

  get concurrency(): number {
    return this.#concurrency;
  }

  requestIn(now: number): void {
    this.#advance(now);
    this.#requestCount++;
    this.#concurrency++;
  }

  requestOut(now: number): void {
    this.#advance(now);
    if (this.#concurrency > 0) this.#concurrency--;
  }

  /** The period since the last report, then starts a new one; concurrency carries over. */
  report(now: number): StatValues {
    this.#advance(now);
    const values: StatValues = {
      averageConcurrency: this.#elapsed > 0 ? this.#weighted / this.#elapsed : 0,
      requestCount: this.#requestCount,
    };
    this.#weighted = 0;
    this.#elapsed = 0;
    this.#requestCount = 0;
    return values;
  }

  #advance(now: number): void {
    const dt = now - this.#lastChange;
    if (dt <= 0) return;
    this.#elapsed += dt;
    this.#weighted += this.#concurrency * dt;
    this.#lastChange = now;
  }
}

interface Entry {
  readonly stats: RequestStats;
  /** 1 while the immediate stat sent for this entry still has to come off the next report. */
  firstRequest: 0 | 1;
}

export class ConcurrencyReporter {
  readonly #entries = new Map<string, Entry>();

  /**
   * Counts a request in. True when the key had no entry (new, or idle for a whole period): the
   * caller sends FIRST_REQUEST_STAT now, and the next report subtracts it.
   */
  requestStarted(key: string, now: number): boolean {
    let entry = this.#entries.get(key);
    const first = entry === undefined;
    if (entry === undefined) {
      entry = { stats: new RequestStats(now), firstRequest: 1 };
      this.#entries.set(key, entry);
    }
    entry.stats.requestIn(now);
    return first;
  }

  requestEnded(key: string, now: number): void {
    this.#entries.get(key)?.stats.requestOut(now);
  }

  /**
   * One stat per key for the period since the last report, less the immediate stat (concurrency
   * not below 0). A key with zero average concurrency for the period is reported once more, with
   * its zeros, and then dropped, so its next request counts as a first request again.
   */
  reportAt(now: number): RevisionStat[] {
    const out: RevisionStat[] = [];
    for (const [key, entry] of this.#entries) {
      const values = entry.stats.report(now);
      const adjust = entry.firstRequest;
      entry.firstRequest = 0;
      // Knative drops on the average alone; the in-flight check keeps a request that started at
      // this very instant (no time elapsed yet) from losing its entry.
      if (values.averageConcurrency === 0 && entry.stats.concurrency === 0) this.#entries.delete(key);
      out.push({
        key,
        averageConcurrency: Math.max(values.averageConcurrency - adjust, 0),
        requestCount: values.requestCount - adjust,
      });
    }
    return out;
  }

  /** Keys with an entry; for tests and diagnostics. */
  get keys(): string[] {
    return [...this.#entries.keys()];
  }
}
