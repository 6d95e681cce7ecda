// A secondary index over an Informer's cache (client-go's Indexer): objects grouped by a derived
// key, such as the Revisions of one Configuration or the Pods of one Revision, so a reconcile does
// not scan every object in the cluster.
import { objectKey, type Informer, type Obj } from './informer.ts';

export class Index<T extends Obj> {
  private readonly byIndex = new Map<string, Map<string, T>>();
  private readonly keysOf = new Map<string, string[]>();
  private readonly indexKeys: (obj: T) => string[];

  constructor(informer: Informer<T>, indexKeys: (obj: T) => string[]) {
    this.indexKeys = indexKeys;
    informer.on({
      add: (obj) => {
        this.put(obj);
      },
      update: (obj) => {
        this.put(obj);
      },
      delete: (obj) => {
        this.remove(objectKey(obj));
      },
    });
  }

  get(indexKey: string): T[] {
    const bucket = this.byIndex.get(indexKey);
    return bucket === undefined ? [] : [...bucket.values()];
  }

  private put(obj: T): void {
    const key = objectKey(obj);
    this.remove(key);
    const keys = this.indexKeys(obj);
    this.keysOf.set(key, keys);
    for (const k of keys) {
      let bucket = this.byIndex.get(k);
      if (bucket === undefined) {
        bucket = new Map();
        this.byIndex.set(k, bucket);
      }
      bucket.set(key, obj);
    }
  }

  private remove(key: string): void {
    for (const k of this.keysOf.get(key) ?? []) {
      const bucket = this.byIndex.get(k);
      bucket?.delete(key);
      if (bucket?.size === 0) this.byIndex.delete(k);
    }
    this.keysOf.delete(key);
  }
}

/** `namespace/value` of a label, the usual index key; none when the label is absent. */
export function labelIndex(label: string): (obj: Obj) => string[] {
  return (obj) => {
    const value = obj.metadata?.labels?.[label];
    return value === undefined || value === '' ? [] : [`${obj.metadata?.namespace ?? ''}/${value}`];
  };
}
