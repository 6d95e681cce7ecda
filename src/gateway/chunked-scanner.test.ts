// Table tests of where a chunked body ends (RFC 9112 §7.1): whole bodies, bodies followed by the
// next message, every split of the bytes across reads, the malformed bodies that must throw, and
// the bytes that end a body cut short at a timeout.
import { describe, expect, it } from '@jest/globals';
import { ChunkedScanner } from './chunked-scanner.ts';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** The result of feeding `s` one byte at a time: the index of the byte it ended on, or -1. */
function feedBytes(scanner: ChunkedScanner, s: string): number[] {
  const results: number[] = [];
  for (const b of bytes(s)) results.push(scanner.scan(Uint8Array.of(b)));
  return results;
}

// Complete bodies: each ends exactly at its last byte.
const bodies: [string, string][] = [
  ['a single chunk', '5\r\nhello\r\n0\r\n\r\n'],
  ['two chunks', '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'],
  ['no data chunk at all', '0\r\n\r\n'],
  ['an uppercase hex size', 'A\r\n0123456789\r\n0\r\n\r\n'],
  ['a lowercase hex size', 'a\r\n0123456789\r\n0\r\n\r\n'],
  ['a mixed-case two-digit size', `1F\r\n${'x'.repeat(31)}\r\n1f\r\n${'y'.repeat(31)}\r\n0\r\n\r\n`],
  ['a size with leading zeros, 13 digits', '0000000000005\r\nhello\r\n0\r\n\r\n'],
  ['data that looks like the end of the body', '7\r\n0\r\n\r\n\r\n\r\n0\r\n\r\n'],
  ['a chunk extension', '5;name=value\r\nhello\r\n0\r\n\r\n'],
  ['chunk extensions with a quoted value', '5;a="b c";d\r\nhello\r\n0;last=1\r\n\r\n'],
  ['a trailer field', '5\r\nhello\r\n0\r\nExpires: x\r\n\r\n'],
  ['two trailer fields', '0\r\nExpires: x\r\nX-Checksum: abc\r\n\r\n'],
];

describe('ChunkedScanner', () => {
  it.each(bodies)('finds the end of %s', (_name, body) => {
    const scanner = new ChunkedScanner();
    expect(scanner.done).toBe(false);
    expect(scanner.scan(bytes(body))).toBe(body.length);
    expect(scanner.done).toBe(true);
  });

  it.each(bodies)('stops at the end of %s when the next message follows', (_name, body) => {
    const next = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    const scanner = new ChunkedScanner();
    expect(scanner.scan(bytes(body + next))).toBe(body.length);
    expect(scanner.done).toBe(true);
  });

  it.each(bodies)('reads %s from a start offset', (_name, body) => {
    const before = 'HTTP/1.1 200 OK\r\n\r\n';
    const scanner = new ChunkedScanner();
    expect(scanner.scan(bytes(before + body + 'next'), before.length)).toBe(before.length + body.length);
    expect(scanner.done).toBe(true);
  });

  it.each(bodies)('finds the end of %s fed byte by byte', (_name, body) => {
    const scanner = new ChunkedScanner();
    const results = feedBytes(scanner, body);
    expect(results.slice(0, -1).every((r) => r === -1)).toBe(true);
    // The last byte ends the body: the offset just past it in its one-byte read is 1.
    expect(results.at(-1)).toBe(1);
    expect(scanner.done).toBe(true);
  });

  it.each(bodies)('finds the end of %s in every split into two reads', (_name, body) => {
    const all = body + 'NEXT';
    for (let k = 0; k <= all.length; k++) {
      const scanner = new ChunkedScanner();
      const first = scanner.scan(bytes(all.slice(0, k)));
      if (k >= body.length) {
        // The body ends in the first read.
        expect([k, first]).toEqual([k, body.length]);
        expect(scanner.done).toBe(true);
      } else {
        expect([k, first, scanner.done]).toEqual([k, -1, false]);
        const second = scanner.scan(bytes(all.slice(k)));
        expect([k, second]).toEqual([k, body.length - k]);
        expect(scanner.done).toBe(true);
      }
    }
  });

  it('keeps its place across three reads of one chunk', () => {
    const scanner = new ChunkedScanner();
    expect(scanner.scan(bytes('a\r\n012'))).toBe(-1);
    expect(scanner.scan(bytes('3456'))).toBe(-1);
    expect(scanner.scan(bytes('789\r\n0\r\n\r\nrest'))).toBe(10);
    expect(scanner.done).toBe(true);
  });

  it('reads nothing more once the body is over', () => {
    const scanner = new ChunkedScanner();
    expect(scanner.scan(bytes('0\r\n\r\n'))).toBe(5);
    expect(scanner.scan(bytes('5\r\nhello\r\n0\r\n\r\n'))).toBe(0);
    expect(scanner.scan(bytes('xyz'), 2)).toBe(2);
    expect(scanner.done).toBe(true);
  });

  it.each([
    ['an empty read', ''],
    ['a size without its line end', '5'],
    ['a size line without its LF', '5\r'],
    ['part of the data', '5\r\nhel'],
    ['the data without its CRLF', '5\r\nhello'],
    ['the data without its LF', '5\r\nhello\r'],
    ['the last chunk without the blank line', '5\r\nhello\r\n0\r\n'],
    ['the last chunk and a CR', '0\r\n\r'],
    ['an unfinished extension', '5;name=val'],
    ['an unfinished trailer', '0\r\nExpires: x\r\n'],
    ['a trailer without its LF', '0\r\nExpires: x\r'],
  ])('asks for more after %s', (_name, partial) => {
    const scanner = new ChunkedScanner();
    expect(scanner.scan(bytes(partial))).toBe(-1);
    expect(scanner.done).toBe(false);
  });

  it.each([
    ['nothing yet', '', '0\r\n\r\n'],
    ['a whole chunk', '5\r\nhello\r\n', '0\r\n\r\n'],
    ['the data without its CRLF', '5\r\nhello', '\r\n0\r\n\r\n'],
    ['the data without its LF', '5\r\nhello\r', '\n0\r\n\r\n'],
    ['the last chunk without the blank line', '5\r\nhello\r\n0\r\n', '\r\n'],
    ['the last chunk and a CR', '0\r\n\r', '\n'],
    ['a trailer without its LF', '0\r\nExpires: x\r', '\n\r\n'],
    ['a whole body', '0\r\n\r\n', ''],
    ['part of a size', '1', undefined],
    ['a size line without its LF', '5\r', undefined],
    ['an unfinished extension', '5;name=val', undefined],
    ['part of the data', '5\r\nhel', undefined],
    ['part of a trailer field', '0\r\nExpires', undefined],
  ])('after %s, ends the body with %j', (_name, prefix, ending) => {
    const scanner = new ChunkedScanner();
    scanner.scan(bytes(prefix));
    expect(scanner.ending()).toBe(ending);
  });

  it.each(bodies)(
    'after every prefix of %s, its ending (when there is one) completes the body',
    (_name, body) => {
      for (let k = 0; k <= body.length; k++) {
        const scanner = new ChunkedScanner();
        scanner.scan(bytes(body.slice(0, k)));
        const ending = scanner.ending();
        if (ending === undefined) continue;
        const whole = body.slice(0, k) + ending;
        expect([k, new ChunkedScanner().scan(bytes(whole))]).toEqual([k, whole.length]);
      }
    },
  );

  const malformed: [string, string, RegExp][] = [
    ['a missing size', '\r\nhello\r\n0\r\n\r\n', /without a size/],
    ['an extension without a size', ';ext\r\nhello\r\n0\r\n\r\n', /without a size/],
    ['a size that is not hex', 'g\r\nhello\r\n0\r\n\r\n', /without a size/],
    ['a negative size', '-5\r\nhello\r\n0\r\n\r\n', /without a size/],
    ['hex digits followed by a non-hex character', '5g\r\nhello\r\n0\r\n\r\n', /malformed chunk size/],
    ['a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', /malformed chunk size/],
    ['a size of 14 hex digits', 'fffffffffffff0\r\nhello\r\n0\r\n\r\n', /too large/],
    ['data longer than the size', '5\r\nhello!\r\n0\r\n\r\n', /longer than its size/],
    ['data shorter than the size', '6\r\nhello\r\n0\r\n\r\n', /longer than its size|without CRLF/],
    ['data followed by CR and no LF', '5\r\nhello\rX0\r\n\r\n', /without CRLF/],
    ['data followed by a bare LF', '5\r\nhello\n0\r\n\r\n', /longer than its size/],
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n', /malformed chunk size/],
    ['a bare CR after the size', '5\rhello\r\n0\r\n\r\n', /without CRLF/],
    ['a bare LF after an extension', '5;a=b\nhello\r\n0\r\n\r\n', /bare LF/],
    ['a bare LF after the last chunk', '5\r\nhello\r\n0\r\n\n', /bare LF/],
    ['a bare LF in a trailer', '0\r\nExpires: x\nX: y\r\n\r\n', /bare LF/],
    ['a trailer line ended by a bare CR', '0\r\nExpires: x\rX: y\r\n\r\n', /without CRLF/],
    ['a missing final CRLF', '0\r\n\rX', /final CRLF/],
    ['a missing final CRLF after a trailer', '0\r\nExpires: x\r\n\rX', /final CRLF/],
  ];

  it.each(malformed)('throws on %s', (_name, body, message) => {
    expect(() => new ChunkedScanner().scan(bytes(body))).toThrow(message);
  });

  it.each(malformed)('throws on %s fed byte by byte', (_name, body, message) => {
    expect(() => feedBytes(new ChunkedScanner(), body)).toThrow(message);
  });

  it('throws on a bad byte after a good body has started in an earlier read', () => {
    const scanner = new ChunkedScanner();
    expect(scanner.scan(bytes('5\r\nhel'))).toBe(-1);
    expect(() => scanner.scan(bytes('lo!\r\n0\r\n\r\n'))).toThrow(/longer than its size/);
    expect(scanner.done).toBe(false);
  });
});
