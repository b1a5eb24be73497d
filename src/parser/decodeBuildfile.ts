import { TsbuildError } from '../core/errors.ts';
import { rangeAt } from './errors.ts';

const HINT = 'save it as UTF-8';

/**
 * decodeBuildfile turns a Buildfile's bytes into its text. A UTF-8 BOM is kept (splitLines drops
 * it, as the reference does). A file in UTF-16 or UTF-32 (told by its BOM, or by the NUL bytes
 * ASCII text has in those encodings) fails at 1:1, and bytes that are not UTF-8 fail at their
 * line and column, both as PARSE_ENCODING: decoding them anyway would silently replace what the
 * user wrote. A NUL byte in valid UTF-8 is left to splitLines, which refuses it.
 */
export function decodeBuildfile(bytes: Uint8Array, file: string): string {
  const wide = wideEncoding(bytes);
  if (wide !== undefined) {
    throw new TsbuildError('PARSE_ENCODING', `the file is ${wide}, not UTF-8`, { range: rangeAt(file, { line: 1, col: 1 }), hint: HINT });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = invalidUtf8At(bytes);
    throw new TsbuildError('PARSE_ENCODING', `invalid UTF-8 (byte 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')}): the file is not UTF-8`, { range: rangeAt(file, position(bytes, at)), hint: HINT });
  }
}

const BOMS: ReadonlyArray<[readonly number[], string]> = [
  [[0xff, 0xfe, 0, 0], 'UTF-32 (little-endian)'],
  [[0, 0, 0xfe, 0xff], 'UTF-32 (big-endian)'],
  [[0xff, 0xfe], 'UTF-16 (little-endian)'],
  [[0xfe, 0xff], 'UTF-16 (big-endian)'],
];

/** wideEncoding names the UTF-16/32 form of b, by its BOM or by where the NULs of its first 512 bytes are. */
function wideEncoding(b: Uint8Array): string | undefined {
  for (const [bom, name] of BOMS) if (bom.every((x, i) => b[i] === x)) return name;
  const n = Math.min(b.length, 512) & ~3;
  if (n === 0) return undefined;
  // Bytes at offsets 0, 1, 2, 3 (mod 4) that are NUL: ASCII text puts them in fixed places.
  const zeros = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) if (b[i] === 0) zeros[i & 3]!++;
  const q = n / 4;
  const pattern = zeros.map((z) => (z * 2 >= q ? '0' : z * 8 <= q ? 'x' : '?')).join('');
  return ({ x000: 'UTF-32 (little-endian)', '000x': 'UTF-32 (big-endian)', x0x0: 'UTF-16 (little-endian)', '0x0x': 'UTF-16 (big-endian)' } as Record<string, string>)[pattern];
}

/** invalidUtf8At is the offset of the first byte that does not start a well-formed UTF-8 sequence. */
function invalidUtf8At(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    // The second byte's range excludes overlong forms, surrogates and code points above U+10FFFF.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}

/** position is the 1-based line and column (UTF-16 units, after a BOM on line 1) of a byte offset in valid UTF-8 before it. */
function position(b: Uint8Array, at: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < at; i++) if (b[i] === 0x0a) { line++; start = i + 1; }
  const text = new TextDecoder('utf-8', { ignoreBOM: line > 1 }).decode(b.subarray(start, at));
  return { line, col: text.length + 1 };
}
