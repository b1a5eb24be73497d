import { describe, expect, it } from 'vitest';
import { decodeBuildfile } from '../../../src/parser/index.ts';
import { TsbuildError } from '../../../src/core/errors.ts';
import { failure } from './helpers.ts';

/** refusal decodes bytes and returns the error as `line:col message`; fails if they decode. */
function refusal(bytes: number[] | Buffer): string {
  try {
    decodeBuildfile(Buffer.from(bytes), 'Buildfile');
  } catch (e) {
    if (!(e instanceof TsbuildError)) throw e;
    expect(e.code).toBe('PARSE_ENCODING');
    return `${e.range!.startLine}:${e.range!.startCol} ${e.message}`;
  }
  throw new Error('expected the bytes to be refused');
}

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('decodeBuildfile', () => {
  it('gives UTF-8 text unchanged, a BOM included (splitLines drops it)', () => {
    const b = bytes([0xef, 0xbb, 0xbf], 'FROM a\nRUN echo é € 😀\n');
    expect(decodeBuildfile(b, 'Buildfile')).toBe(b.toString('utf8'));
    expect(decodeBuildfile(Buffer.alloc(0), 'Buildfile')).toBe('');
  });

  it.each([
    // each: bytes, where, what
    [bytes('FROM a\nRUN caf', [0xe9], '\n'), '2:8 invalid UTF-8 (byte 0xe9): the file is not UTF-8'],
    [bytes('RUN é€😀', [0xff]), '1:9 invalid UTF-8 (byte 0xff): the file is not UTF-8'], // columns count UTF-16 units
    [bytes([0xef, 0xbb, 0xbf], 'FROM ', [0x80]), '1:6 invalid UTF-8 (byte 0x80): the file is not UTF-8'], // the BOM is not a column
    [bytes('RUN ', [0xc0, 0x80]), '1:5 invalid UTF-8 (byte 0xc0): the file is not UTF-8'], // overlong NUL
    [bytes('RUN ', [0xed, 0xa0, 0x80]), '1:5 invalid UTF-8 (byte 0xed): the file is not UTF-8'], // a surrogate
    [bytes('RUN ', [0xf4, 0x90, 0x80, 0x80]), '1:5 invalid UTF-8 (byte 0xf4): the file is not UTF-8'], // above U+10FFFF
    [bytes('RUN x', [0xe2, 0x82]), '1:6 invalid UTF-8 (byte 0xe2): the file is not UTF-8'], // cut short at the end
  ])('refuses bytes that are not UTF-8 where they are: %#', (b, want) => {
    expect(refusal(b)).toBe(want);
  });

  it('names UTF-16 and UTF-32, with or without a BOM', () => {
    const le = Buffer.from('FROM a\n', 'utf16le');
    expect(refusal(le)).toBe('1:1 the file is UTF-16 (little-endian), not UTF-8');
    expect(refusal(Buffer.from(le).swap16())).toBe('1:1 the file is UTF-16 (big-endian), not UTF-8');
    expect(refusal([0xfe, 0xff, 0, 0x46])).toBe('1:1 the file is UTF-16 (big-endian), not UTF-8');
    const le32 = Buffer.alloc(28);
    [...'FROM a\n'].forEach((c, i) => le32.writeUInt32LE(c.charCodeAt(0), i * 4));
    expect(refusal(le32)).toBe('1:1 the file is UTF-32 (little-endian), not UTF-8');
    expect(refusal(Buffer.from(le32).swap32())).toBe('1:1 the file is UTF-32 (big-endian), not UTF-8');
    expect(refusal([0, 0, 0xfe, 0xff])).toBe('1:1 the file is UTF-32 (big-endian), not UTF-8');
  });

  it('leaves a stray NUL in UTF-8 text to the parser, which refuses it at its line and column', () => {
    const text = decodeBuildfile(bytes('FROM a\nRUN echo ', [0], 'x\n'), 'Buildfile');
    expect(failure(text)).toEqual({ code: 'PARSE_ENCODING', at: '2:10', message: 'the file contains a NUL byte, which a text file does not have' });
    // Text that never was a file (an ONBUILD trigger, --change) goes through the same check.
    expect(failure('FROM a\nLABEL a=\0', true).at).toBe('2:9');
  });
});
