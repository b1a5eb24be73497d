/**
 * File names are bytes. tsbuild carries every path from the outside (a context, an upper dir,
 * a tar, a layer, a container) as a JavaScript string in one representation, decided once
 * (docs/ARCHITECTURE.md, "Names are bytes"): the bytes decoded as UTF-8, where each byte that
 * is not part of a valid UTF-8 sequence becomes the lone surrogate U+DC80..U+DCFF (0x80..0xFF),
 * as Python's `surrogateescape` (PEP 383). Valid UTF-8 names are ordinary strings; no valid
 * UTF-8 ever decodes to a lone surrogate, so the mapping is exact both ways: `\xff` and U+FFFD
 * (`\xef\xbf\xbd`) are different strings.
 *
 * Bytes enter through decodeName (readdir with encoding 'buffer', readlink, tar headers) and
 * leave through encodeName or osPath (every fs call, tar headers). Node's own string → path
 * conversion writes a lone surrogate as U+FFFD, which is the bug this module exists to avoid.
 */

const SURROGATE = /[\uD800-\uDFFF]/;
const ESCAPE_BASE = 0xdc00;

/** hasEscapes tells whether s stands for bytes that are not UTF-8 (it holds a lone surrogate). */
export function hasEscapes(s: string): boolean {
  return SURROGATE.test(s) && !(s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** decodeName turns name bytes into their string form (invalid UTF-8 bytes as U+DC80..U+DCFF). */
export function decodeName(b: Uint8Array, start = 0, end = b.length): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const s = buf.toString('utf8', start, end);
  // Node writes U+FFFD for every invalid sequence; without one, the bytes were valid UTF-8.
  return s.includes('\uFFFD') ? decodeSlow(buf, start, end) : s;
}

/** encodeName is the inverse of decodeName: the bytes a name string stands for. */
export function encodeName(s: string): Buffer {
  return hasEscapes(s) ? encodeSlow(s) : Buffer.from(s, 'utf8');
}

/**
 * osPath gives what to hand a node:fs call for the path s: s itself when Node's UTF-8
 * conversion is exact (no lone surrogate in it), else its bytes as a Buffer.
 */
export function osPath(s: string): string | Buffer {
  return hasEscapes(s) ? encodeSlow(s) : s;
}

/**
 * compareNames orders names by their bytes (Buffer.compare of the encoded names), as BuildKit
 * and Go sort paths. For names without surrogates or characters from U+D800 up, code-unit
 * order is byte order and no bytes are made.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    // Compare whole characters: back up to the high half of a pair the two names share.
    const from = i > 0 && (a.charCodeAt(i - 1) & 0xfc00) === 0xd800 ? i - 1 : i;
    return Buffer.compare(encodeName(a.slice(from)), encodeName(b.slice(from)));
  }
  return a.length - b.length;
}

const HIGH = /[\uD800-\uFFFF]/;

/**
 * sortNames sorts names in place by their bytes. The default sort (code units) is byte order
 * when no name holds a character from U+D800 up, so only such lists pay for compareNames.
 */
export function sortNames<T extends string>(names: T[]): T[] {
  names.sort();
  for (const n of names) if (HIGH.test(n)) return names.sort(compareNames);
  return names;
}

/** sortByName is sortNames for items that carry a name. */
export function sortByName<T extends { name: string }>(items: T[]): T[] {
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const it of items) if (HIGH.test(it.name)) return items.sort((a, b) => compareNames(a.name, b.name));
  return items;
}

/**
 * displayName renders a name for a message: valid UTF-8 as is, each invalid byte as `\xNN`,
 * so the user sees which name is meant (a terminal would show U+FFFD for either).
 */
export function displayName(s: string): string {
  if (!hasEscapes(s)) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += ch.length === 1 && c >= 0xdc80 && c <= 0xdcff ? `\\x${(c - ESCAPE_BASE).toString(16)}` : ch;
  }
  return out;
}

/** decodeSlow decodes valid UTF-8 sequences (WHATWG's rules, as Node) and escapes every other byte. */
function decodeSlow(b: Buffer, start: number, end: number): string {
  let out = '';
  let run = start;
  let i = start;
  const flush = (to: number) => { if (to > run) out += b.toString('utf8', run, to); };
  while (i < end) {
    const c = b[i]!;
    const len = c < 0x80 ? 1 : validSequence(b, i, end);
    if (len > 0) { i += len; continue; }
    flush(i);
    out += String.fromCharCode(ESCAPE_BASE + c);
    i++;
    run = i;
  }
  flush(end);
  return out;
}

/** validSequence is the length of the valid multi-byte UTF-8 sequence at b[i], or 0. */
function validSequence(b: Buffer, i: number, end: number): number {
  const c = b[i]!;
  let len: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c === 0xe0) lo = 0xa0; // overlong
    if (c === 0xed) hi = 0x9f; // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c === 0xf0) lo = 0x90; // overlong
    if (c === 0xf4) hi = 0x8f; // above U+10FFFF
  } else return 0;
  if (i + len > end) return 0;
  const c1 = b[i + 1]!;
  if (c1 < lo || c1 > hi) return 0;
  for (let k = 2; k < len; k++) {
    const ck = b[i + k]!;
    if (ck < 0x80 || ck > 0xbf) return 0;
  }
  return len;
}

/** encodeSlow writes escapes back as their byte and everything else as UTF-8 (other lone surrogates as Node does). */
function encodeSlow(s: string): Buffer {
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; } // a pair: valid UTF-16
      continue;
    }
    if (c < 0xdc80 || c > 0xdcff) continue;
    if (i > run) parts.push(Buffer.from(s.slice(run, i), 'utf8'));
    parts.push(Buffer.of(c - ESCAPE_BASE));
    run = i + 1;
  }
  if (run < s.length) parts.push(Buffer.from(s.slice(run), 'utf8'));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
