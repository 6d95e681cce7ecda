// Names of what a Revision owns, and the 63-character child-name rule (knative.dev/pkg
// kmeta.ChildName) that every reconciler uses to derive a child's name from its parent's.
import { createHash } from 'node:crypto';
import type { Revision } from '../../../apis/serving/v1/revision-types.ts';

const LONGEST = 63;
const MD5_HEX_LENGTH = 32;
/** How much of the parent survives when the MD5 hex of the parent has to fit in. */
const HEAD = LONGEST - MD5_HEX_LENGTH;

const md5Hex = (text: string): string => createHash('md5').update(text).digest('hex');

/**
 * `parent + suffix`, or, when that exceeds 63 characters, the parent cut short and followed by
 * its MD5 hex so that distinct long parents still get distinct children. A suffix too long for
 * that hashes parent and suffix together and keeps what fits, minus trailing non-alphanumerics.
 */
export function childName(parent: string, suffix: string): string {
  if (parent.length <= LONGEST - suffix.length) return parent + suffix;
  if (HEAD - suffix.length <= 0) {
    let name = parent.slice(0, HEAD) + md5Hex(parent + suffix);
    const room = LONGEST - name.length;
    if (room > 0) name += suffix.slice(0, room);
    return name.replace(/[^a-zA-Z0-9]+$/, '');
  }
  return parent.slice(0, HEAD - suffix.length) + md5Hex(parent) + suffix;
}

/** `<revision>-deployment`. */
export function deploymentName(rev: Pick<Revision, 'metadata'>): string {
  return childName(rev.metadata.name ?? '', '-deployment');
}

/** The PodAutoscaler shares the Revision's name, so its key matches the Revision's. */
export function podAutoscalerName(rev: Pick<Revision, 'metadata'>): string {
  return rev.metadata.name ?? '';
}
