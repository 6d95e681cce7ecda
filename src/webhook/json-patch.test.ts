import { describe, expect, it } from '@jest/globals';
import { createPatch, escapePointerToken, type JsonPatchOperation } from './json-patch.ts';

/** A strict RFC 6902 applier for add, remove and replace, to prove the patches do what they say. */
function applyPatch(document: unknown, ops: readonly JsonPatchOperation[]): unknown {
  let doc: unknown = structuredClone(document);
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'remove') throw new Error('cannot remove the root');
      doc = structuredClone(op.value);
      continue;
    }
    const tokens = op.path
      .slice(1)
      .split('/')
      .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = tokens.pop() ?? '';
    let parent = doc as Record<string, unknown> | unknown[];
    for (const t of tokens) {
      const next: unknown = Array.isArray(parent) ? parent[Number(t)] : parent[t];
      if (typeof next !== 'object' || next === null) throw new Error(`${op.path}: no parent at ${t}`);
      parent = next as Record<string, unknown> | unknown[];
    }
    if (Array.isArray(parent)) {
      const index = Number(last);
      if (op.op === 'add') {
        if (index > parent.length) throw new Error(`${op.path}: index out of range`);
        parent.splice(index, 0, structuredClone(op.value));
      } else {
        if (index >= parent.length) throw new Error(`${op.path}: no element`);
        if (op.op === 'remove') parent.splice(index, 1);
        else parent[index] = structuredClone(op.value);
      }
    } else {
      const exists = Object.hasOwn(parent, last);
      if (op.op !== 'add' && !exists) throw new Error(`${op.path}: no member to ${op.op}`);
      if (op.op === 'remove') Reflect.deleteProperty(parent, last);
      else parent[last] = structuredClone(op.value);
    }
  }
  return doc;
}

describe('escapePointerToken', () => {
  it.each([
    ['plain', 'plain'],
    ['serving.knative.dev/creator', 'serving.knative.dev~1creator'],
    ['a~b', 'a~0b'],
    ['~/', '~0~1'],
    ['~1', '~01'],
  ])('%s → %s', (token, want) => {
    expect(escapePointerToken(token)).toBe(want);
  });
});

describe('createPatch', () => {
  it.each<[string, unknown, unknown, JsonPatchOperation[]]>([
    ['equal documents', { a: 1, b: [1, { c: null }] }, { a: 1, b: [1, { c: null }] }, []],
    ['an added member', { a: 1 }, { a: 1, b: { c: 2 } }, [{ op: 'add', path: '/b', value: { c: 2 } }]],
    ['a removed member', { a: 1, b: 2 }, { a: 1 }, [{ op: 'remove', path: '/b' }]],
    ['a changed scalar', { a: { b: 'x' } }, { a: { b: 'y' } }, [{ op: 'replace', path: '/a/b', value: 'y' }]],
    ['null to a value', { a: null }, { a: 1 }, [{ op: 'replace', path: '/a', value: 1 }]],
    ['a type change', { a: [1] }, { a: { 0: 1 } }, [{ op: 'replace', path: '/a', value: { 0: 1 } }]],
    ['number to string', { a: 1 }, { a: '1' }, [{ op: 'replace', path: '/a', value: '1' }]],
    [
      'an annotation key with a slash',
      { metadata: { annotations: { x: 'y' } } },
      { metadata: { annotations: { x: 'y', 'serving.knative.dev/creator': 'alice' } } },
      [{ op: 'add', path: '/metadata/annotations/serving.knative.dev~1creator', value: 'alice' }],
    ],
    ['a key with a tilde', { 'a~b': 1 }, { 'a~b': 2 }, [{ op: 'replace', path: '/a~0b', value: 2 }]],
    ['an empty key', {}, { '': 1 }, [{ op: 'add', path: '/', value: 1 }]],
    [
      'an element changed in place',
      { c: [{ name: 'a' }, { name: 'b' }] },
      { c: [{ name: 'a' }, { name: 'b', port: 1 }] },
      [{ op: 'add', path: '/c/1/port', value: 1 }],
    ],
    [
      'elements appended',
      { l: [1] },
      { l: [1, 2, 3] },
      [
        { op: 'add', path: '/l/1', value: 2 },
        { op: 'add', path: '/l/2', value: 3 },
      ],
    ],
    [
      'elements truncated, highest index first',
      { l: [1, 2, 3] },
      { l: [1] },
      [
        { op: 'remove', path: '/l/2' },
        { op: 'remove', path: '/l/1' },
      ],
    ],
    ['undefined members do not exist', { a: 1, b: undefined }, { a: 1, c: undefined }, []],
    ['a different root', { a: 1 }, [1], [{ op: 'replace', path: '', value: [1] }]],
    ['scalar roots', 1, 2, [{ op: 'replace', path: '', value: 2 }]],
  ])('%s', (_name, before, after, want) => {
    const ops = createPatch(before, after);
    expect(ops).toEqual(want);
    expect(applyPatch(before, ops)).toEqual(JSON.parse(JSON.stringify(after)));
  });

  it.each<[string, unknown, unknown]>([
    [
      'deep mixed changes',
      { a: { b: [1, { c: 2 }], d: 'x' }, e: 1 },
      { a: { b: [{ c: 2 }], f: [] }, g: { h: null } },
    ],
    ['an emptied object', { m: { a: 1, b: 2 } }, { m: {} }],
    ['arrays of arrays', { x: [[1, 2], [3]] }, { x: [[1], [3, 4], []] }],
  ])('turns before into after: %s', (_name, before, after) => {
    expect(applyPatch(before, createPatch(before, after))).toEqual(after);
  });
});
