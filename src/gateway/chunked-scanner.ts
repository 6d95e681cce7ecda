// Finds where a chunked body (RFC 9112 §7.1) ends, for the fast path, which relays the pod's
// chunks to the client byte for byte and needs only to know when the response is over so that
// the pod's connection can carry the next request, and how to end it when a timeout stops the
// relay. A state machine over the bytes as they arrive; it copies nothing. Pure: no I/O.

const State = {
  Size: 0,
  Extension: 1,
  SizeLF: 2,
  Data: 3,
  DataCR: 4,
  DataLF: 5,
  TrailerStart: 6,
  Trailer: 7,
  TrailerLF: 8,
  EndLF: 9,
  Done: 10,
} as const;
type State = (typeof State)[keyof typeof State];

const CR = 0x0d;
const LF = 0x0a;
/** 13 hex digits are 2^52: chunks beyond that are not real, and the count stays exact. */
const MAX_SIZE_DIGITS = 13;

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

export class ChunkedScanner {
  private state: State = State.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;

  get done(): boolean {
    return this.state === State.Done;
  }

  /**
   * The bytes that end the body where the scan stands, so that a response the gateway stops
   * relaying still reaches the client whole: the last chunk and the end of the trailer section,
   * after whatever finishes the piece under way. Undefined inside a chunk size line, a chunk's
   * data or a trailer field, which nothing honest can finish.
   */
  ending(): string | undefined {
    switch (this.state) {
      case State.Size:
        return this.digits === 0 ? '0\r\n\r\n' : undefined;
      case State.DataCR:
        return '\r\n0\r\n\r\n';
      case State.DataLF:
        return '\n0\r\n\r\n';
      case State.TrailerStart:
        return '\r\n';
      case State.TrailerLF:
        return '\n\r\n';
      case State.EndLF:
        return '\n';
      case State.Done:
        return '';
      case State.Extension:
      case State.SizeLF:
      case State.Data:
      case State.Trailer:
        return undefined;
    }
  }

  /**
   * Reads `chunk` from `start`. Returns the offset just past the body's last byte when it ends in
   * this chunk, -1 when more is to come, and throws on bytes that are not a chunked body.
   */
  scan(chunk: Uint8Array, start = 0): number {
    let i = start;
    while (i < chunk.length) {
      const byte = chunk[i] ?? 0;
      switch (this.state) {
        case State.Size: {
          const value = hexValue(byte);
          if (value >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new Error('a chunk size too large');
            this.size = this.size * 16 + value;
          } else if (this.digits === 0) {
            throw new Error('a chunk without a size');
          } else if (byte === CR) {
            this.state = State.SizeLF;
          } else if (byte === 0x3b || byte === 0x20 || byte === 0x09) {
            this.state = State.Extension;
          } else {
            throw new Error('a malformed chunk size');
          }
          i++;
          break;
        }
        case State.Extension:
          if (byte === CR) this.state = State.SizeLF;
          else if (byte === LF) throw new Error('a bare LF in a chunk extension');
          i++;
          break;
        case State.SizeLF:
          if (byte !== LF) throw new Error('a chunk size line without CRLF');
          i++;
          if (this.size === 0) {
            this.state = State.TrailerStart;
          } else {
            this.remaining = this.size;
            this.state = State.Data;
          }
          this.size = 0;
          this.digits = 0;
          break;
        case State.Data: {
          const take = Math.min(this.remaining, chunk.length - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = State.DataCR;
          break;
        }
        case State.DataCR:
          if (byte !== CR) throw new Error('chunk data longer than its size');
          this.state = State.DataLF;
          i++;
          break;
        case State.DataLF:
          if (byte !== LF) throw new Error('chunk data without CRLF');
          this.state = State.Size;
          i++;
          break;
        case State.TrailerStart:
          if (byte === CR) this.state = State.EndLF;
          else if (byte === LF) throw new Error('a bare LF after the last chunk');
          else this.state = State.Trailer;
          i++;
          break;
        case State.Trailer:
          if (byte === CR) this.state = State.TrailerLF;
          else if (byte === LF) throw new Error('a bare LF in a trailer field');
          i++;
          break;
        case State.TrailerLF:
          if (byte !== LF) throw new Error('a trailer field without CRLF');
          this.state = State.TrailerStart;
          i++;
          break;
        case State.EndLF:
          if (byte !== LF) throw new Error('a chunked body without its final CRLF');
          this.state = State.Done;
          return i + 1;
        case State.Done:
          return i;
      }
    }
    return -1;
  }
}
