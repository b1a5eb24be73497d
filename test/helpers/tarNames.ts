import { gunzipSync } from 'node:zlib';

/**
 * tarNames: a tar reader and writer that treat names as bytes, independent of tsbuild's own
 * tar code, for tests of names that are not UTF-8 (`\xff`) next to names that are (U+FFFD).
 */

/** ByteEntry is one tar entry with its name and link name as raw bytes (PAX and GNU long names applied). */
export interface ByteEntry {
  name: Buffer;
  linkname: Buffer;
  /** Typeflag character ('0' file, '1' hard link, '2' symlink, '5' dir, ...). */
  type: string;
  data: Buffer;
}

function field(h: Buffer, off: number, len: number): Buffer {
  const s = h.subarray(off, off + len);
  const z = s.indexOf(0);
  return Buffer.from(s.subarray(0, z < 0 ? s.length : z));
}

function size(h: Buffer): number {
  return parseInt(field(h, 124, 12).toString('latin1').trim() || '0', 8);
}

function paxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    const len = parseInt(data.subarray(i, sp).toString('latin1'), 10);
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    out.set(rec.subarray(0, eq).toString('latin1'), Buffer.from(rec.subarray(eq + 1)));
    i += len;
  }
  return out;
}

/** byteEntries lists a tar's entries (gzip detected by magic), names as bytes, trailing `/` kept. */
export function byteEntries(tar: Buffer): ByteEntry[] {
  const buf = tar[0] === 0x1f && tar[1] === 0x8b ? gunzipSync(tar) : tar;
  const out: ByteEntry[] = [];
  let off = 0;
  let pax = new Map<string, Buffer>();
  let longName: Buffer | undefined;
  let longLink: Buffer | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const n = size(h);
    const type = String.fromCharCode(h[156] || 0x30);
    const data = Buffer.from(buf.subarray(off + 512, off + 512 + n));
    off += 512 + Math.ceil(n / 512) * 512;
    if (type === 'x') { pax = new Map([...pax, ...paxRecords(data)]); continue; }
    if (type === 'g') continue;
    if (type === 'L') { longName = field(data, 0, data.length); continue; }
    if (type === 'K') { longLink = field(data, 0, data.length); continue; }
    const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? field(h, 345, 155) : Buffer.alloc(0);
    const short = prefix.length ? Buffer.concat([prefix, Buffer.from('/'), field(h, 0, 100)]) : field(h, 0, 100);
    out.push({
      name: pax.get('path') ?? longName ?? short,
      linkname: pax.get('linkpath') ?? longLink ?? field(h, 157, 100),
      type,
      data,
    });
    pax = new Map();
    longName = longLink = undefined;
  }
  return out;
}

/** RawSpec is one entry to write: name bytes as given; `pax` puts the names in a PAX header, else USTAR (≤ 100 bytes). */
export interface RawSpec {
  name: Buffer;
  type?: '0' | '1' | '2' | '5';
  body?: Buffer;
  linkname?: Buffer;
  pax?: boolean;
  /** With pax: what the USTAR name field holds (default `placeholder`); Go's archive/tar writes the name's ASCII bytes. */
  ustarName?: Buffer;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: Buffer, type: string, bodySize: number, linkname: Buffer, mode: number): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0, 0, Math.min(100, name.length));
  h.write(octal(mode, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(bodySize, 12), 124, 'latin1');
  h.write(octal(1_600_000_000, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  linkname.copy(h, 157, 0, Math.min(100, linkname.length));
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

function record(key: string, value: Buffer): Buffer {
  const rest = key.length + value.length + 3;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

/** rawByteTar writes entries verbatim (names as bytes, uid/gid 0, mtime 1600000000). */
export function rawByteTar(specs: RawSpec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const s of specs) {
    const type = s.type ?? '0';
    const body = type === '0' ? s.body ?? Buffer.alloc(0) : Buffer.alloc(0);
    const link = s.linkname ?? Buffer.alloc(0);
    if (s.pax) {
      const recs = Buffer.concat([record('path', s.name), ...(link.length ? [record('linkpath', link)] : [])]);
      blocks.push(header(Buffer.from('PaxHeaders/x'), 'x', recs.length, Buffer.alloc(0), 0o644), recs, pad(recs.length));
    }
    blocks.push(header(s.pax ? s.ustarName ?? Buffer.from('placeholder') : s.name, type, body.length, s.pax ? Buffer.alloc(0) : link, type === '5' ? 0o755 : 0o644));
    if (body.length) blocks.push(body, pad(body.length));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** FF and FFFD are the two names the tests put side by side: the byte 0xff, and U+FFFD's UTF-8. */
export const FF = Buffer.from([0xff]);
export const FFFD = Buffer.from([0xef, 0xbf, 0xbd]);

/** withName maps each entry's name to its data as latin1 strings (bytes kept), for comparing. */
export function filesByName(entries: ByteEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) if (e.type === '0') out[e.name.toString('latin1')] = e.data.toString('latin1');
  return out;
}

/** latin1 spells bytes as a latin1 string (one char per byte), the key form filesByName uses. */
export function latin1(...parts: Array<Buffer | string>): string {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))).toString('latin1');
}
