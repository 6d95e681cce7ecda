import { describe, expect, it } from '@jest/globals';
import {
  bitString,
  boolean,
  children,
  explicit,
  implicit,
  integer,
  namedBits,
  nullValue,
  octetString,
  oid,
  readNode,
  sequence,
  time,
  utf8String,
} from './der.ts';

const hex = (b: Buffer): string => b.toString('hex');

describe('DER encoders', () => {
  it.each([
    ['integer 0', integer(0), '020100'],
    ['integer 2', integer(2), '020102'],
    ['integer 127', integer(127), '02017f'],
    ['integer 128 gets a leading zero', integer(128), '02020080'],
    ['integer 256', integer(256), '02020100'],
    ['redundant zero bytes are dropped', integer(Buffer.from([0, 0, 0x12])), '020112'],
    ['top bit set keeps one zero', integer(Buffer.from([0, 0, 0x92])), '02020092'],
    ['empty magnitude is zero', integer(Buffer.alloc(0)), '020100'],
    ['ecdsa-with-SHA256', oid('1.2.840.10045.4.3.2'), '06082a8648ce3d040302'],
    ['subjectAltName', oid('2.5.29.17'), '0603551d11'],
    ['serverAuth', oid('1.3.6.1.5.5.7.3.1'), '06082b06010505070301'],
    ['true', boolean(true), '0101ff'],
    ['false', boolean(false), '010100'],
    ['null', nullValue(), '0500'],
    ['utf8', utf8String('hé'), '0c0368c3a9'],
    ['octet string', octetString(Buffer.from([1, 2])), '04020102'],
    ['bit string', bitString(Buffer.from([0xab])), '030200ab'],
    ['keyUsage digitalSignature', namedBits([0]), '03020780'],
    ['keyUsage CA bits 0, 5, 6', namedBits([0, 5, 6]), '03020186'],
    ['a bit in the second byte', namedBits([8]), '0303070080'],
    ['no bits', namedBits([]), '030100'],
    ['empty sequence', sequence(), '3000'],
    ['[0] explicit', explicit(0, integer(2)), 'a003020102'],
    ['[2] implicit', implicit(2, Buffer.from('a')), '820161'],
    [
      'UTCTime up to 2049',
      time(new Date('2049-12-31T23:59:59.999Z')),
      `170d${hex(Buffer.from('491231235959Z'))}`,
    ],
    [
      'GeneralizedTime from 2050',
      time(new Date('2050-01-01T00:00:00Z')),
      `180f${hex(Buffer.from('20500101000000Z'))}`,
    ],
  ])('%s', (_name, encoded, want) => {
    expect(hex(encoded)).toBe(want);
  });

  it('uses the long length form from 128 bytes', () => {
    expect(hex(octetString(Buffer.alloc(200))).slice(0, 6)).toBe('0481c8');
    expect(hex(octetString(Buffer.alloc(300))).slice(0, 8)).toBe('0482012c');
  });

  it.each([['1'], ['3.1'], ['1.40'], ['1.2.x']])('rejects the OID %s', (dotted) => {
    expect(() => oid(dotted)).toThrow(/oid/);
  });

  it.each([[-1], [1.5]])('rejects the integer %d', (n) => {
    expect(() => integer(n)).toThrow(RangeError);
  });
});

describe('DER reader', () => {
  it('walks what the encoders wrote', () => {
    const encoded = sequence(integer(5), octetString(Buffer.alloc(300, 7)), sequence(boolean(true)));
    const root = readNode(encoded);
    expect(root.tag).toBe(0x30);
    expect(root.raw.equals(encoded)).toBe(true);
    const [a, b, c] = children(root);
    expect(a?.content).toEqual(Buffer.from([5]));
    expect(b?.content).toEqual(Buffer.alloc(300, 7));
    expect(children(c ?? root).map((n) => n.tag)).toEqual([0x01]);
  });

  it.each([
    ['empty input', Buffer.alloc(0), /truncated/],
    ['a length past the end', Buffer.from([0x04, 0x05, 0x00]), /past the end/],
    ['a truncated long length', Buffer.from([0x04, 0x82, 0x01]), /truncated length/],
    ['indefinite length', Buffer.from([0x30, 0x80]), /unsupported length/],
    ['a high tag number', Buffer.from([0x1f, 0x01, 0x00]), /high tag/],
  ])('rejects %s', (_name, input, error) => {
    expect(() => readNode(input)).toThrow(error);
  });
});
