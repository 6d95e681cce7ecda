// Knative's "living" condition sets: a kind names its dependent conditions, and Ready is their
// conjunction. Marking a dependent False makes Ready False with the same reason and message; a
// dependent that is Unknown or missing keeps Ready Unknown. lastTransitionTime changes only when a
// condition really changes, so recomputing a status from scratch does not churn it.
import type { Condition, ConditionStatus } from '../../meta/v1.ts';

export const READY = 'Ready';

export class ConditionSet {
  readonly dependents: readonly string[];

  constructor(dependents: readonly string[]) {
    this.dependents = dependents;
  }

  /** A manager over a copy of `conditions`; `now` stamps transitions. */
  manage(conditions: readonly Condition[] | undefined, now: Date): ConditionManager {
    return new ConditionManager(this, conditions ?? [], now);
  }
}

export class ConditionManager {
  private readonly set: ConditionSet;
  private readonly byType = new Map<string, Condition>();
  private readonly original = new Map<string, Condition>();
  private readonly now: string;

  constructor(set: ConditionSet, conditions: readonly Condition[], now: Date) {
    this.set = set;
    this.now = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const c of conditions) {
      this.byType.set(c.type, c);
      this.original.set(c.type, c);
    }
  }

  get(type: string): Condition | undefined {
    return this.byType.get(type);
  }

  status(type: string): ConditionStatus {
    return this.byType.get(type)?.status ?? 'Unknown';
  }

  isReady(): boolean {
    return this.status(READY) === 'True';
  }

  /** Ready becomes Unknown if absent; absent dependents take Ready's status if True, else Unknown. */
  initialize(): void {
    if (!this.byType.has(READY)) this.write({ type: READY, status: 'Unknown' });
    const happy = this.status(READY) === 'True';
    for (const type of this.set.dependents)
      if (!this.byType.has(type)) this.write({ type, status: happy ? 'True' : 'Unknown' });
  }

  markTrue(type: string, reason?: string, message?: string): void {
    this.write({ type, status: 'True', reason, message });
    if (type === READY) return;
    const unhappy = this.unhappyDependent();
    if (unhappy === undefined) this.write({ type: READY, status: 'True' });
    else
      this.write({ type: READY, status: unhappy.status, reason: unhappy.reason, message: unhappy.message });
  }

  markUnknown(type: string, reason: string, message: string): void {
    this.write({ type, status: 'Unknown', reason, message });
    if (type === READY || !this.set.dependents.includes(type)) return;
    // A failed dependent trumps an unknown one: Ready stays (or becomes) False.
    if (this.set.dependents.some((d) => this.byType.get(d)?.status === 'False')) {
      if (this.status(READY) !== 'False') this.write({ type: READY, status: 'False', reason, message });
      return;
    }
    this.write({ type: READY, status: 'Unknown', reason, message });
  }

  markFalse(type: string, reason: string, message: string): void {
    this.write({ type, status: 'False', reason, message });
    if (type === READY || !this.set.dependents.includes(type)) return;
    this.write({ type: READY, status: 'False', reason, message });
  }

  /**
   * The conditions sorted by type, as Knative stores them. A condition that ends up as it started
   * keeps its original lastTransitionTime, even if it changed and changed back in between.
   */
  conditions(): Condition[] {
    const out = [...this.byType.values()].map((c) => {
      const was = this.original.get(c.type);
      return was !== undefined && sameCondition(was, c) ? was : c;
    });
    return out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  /** The dependent that keeps Ready from True: a False one first, else the most recently changed. */
  private unhappyDependent(): Condition | undefined {
    const unhappy = this.set.dependents
      .map((d) => this.byType.get(d) ?? { type: d, status: 'Unknown' as const })
      .filter((c) => c.status !== 'True');
    const pool = unhappy.some((c) => c.status === 'False')
      ? unhappy.filter((c) => c.status === 'False')
      : unhappy;
    return pool.reduce<Condition | undefined>(
      (best, c) =>
        best === undefined || (c.lastTransitionTime ?? '') > (best.lastTransitionTime ?? '') ? c : best,
      undefined,
    );
  }

  private write(next: { type: string; status: ConditionStatus; reason?: string; message?: string }): void {
    const old = this.byType.get(next.type);
    const severity = next.type === READY || this.set.dependents.includes(next.type) ? undefined : 'Info';
    const cond: Condition = { type: next.type, status: next.status };
    if (severity !== undefined) cond.severity = severity;
    if (next.reason !== undefined && next.reason !== '') cond.reason = next.reason;
    if (next.message !== undefined && next.message !== '') cond.message = next.message;
    if (old !== undefined && sameCondition(old, cond)) return;
    cond.lastTransitionTime = this.now;
    this.byType.set(cond.type, cond);
  }
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    (a.reason ?? '') === (b.reason ?? '') &&
    (a.message ?? '') === (b.message ?? '') &&
    (a.severity ?? '') === (b.severity ?? '')
  );
}
