import { createHash } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Header } from 'tar';
import { digestFromHash, type DiffID } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import { decodeName } from '../core/names.ts';
import { BLOCK, codeKind, paddingFor, parsePax, ustarNames, type TarHeader } from './tarFormat.ts';
import { zstdDecompress } from '../sys/zstd.ts';

/** TarReadEntry is one file-system entry of a tar; body yields exactly header.size bytes (only for files). */
export interface TarReadEntry {
  header: TarHeader;
  body: AsyncIterable<Buffer>;
}

/** TarDigest is filled in as the tar is read: sha256 and size of the *uncompressed* stream (its DiffID). */
export interface TarDigest {
  diffID?: DiffID;
  size: number;
}

const MAX_META = 1 << 20;

/**
 * readTar parses a tar stream (gzip recognised by its magic bytes) entry by
 * entry with constant memory: PAX (including binary SCHILY.xattr values) and
 * GNU long names are folded into the next entry's header. Names are bytes (PAX
 * `path`/`linkpath`, GNU long names and USTAR fields alike are taken raw, see
 * core/names.ts), never decoded lossily. Each entry's body
 * must be consumed before asking for the next entry, or it is skipped.
 * digest receives the DiffID once the whole stream has been read.
 * Malformed input throws TsbuildError('BAD_ARCHIVE').
 */
export async function* readTar(input: Readable, digest: TarDigest = { size: 0 }): AsyncGenerator<TarReadEntry> {
  const hash = createHash('sha256');
  const r = new ByteReader(decompress(input), (c) => { hash.update(c); digest.size += c.length; });
  let pax = new Map<string, Buffer>();
  let globalPax = new Map<string, Buffer>();
  let longPath: string | undefined;
  let longLink: string | undefined;
  let zeros = 0;
  for (;;) {
    const block = await r.exact(BLOCK);
    if (!block) break;
    if (block.every((b) => b === 0)) {
      if (++zeros === 2) break;
      continue;
    }
    zeros = 0;
    const h = new Header(block);
    if (!h.cksumValid) throw bad(`invalid header checksum at byte ${r.offset - BLOCK}`);
    // The typeflag and size come from the block itself: node-tar's Header turns a '0' entry whose
    // USTAR name ends in '/' into a directory of size 0, and Go's archive/tar (Docker, BuildKit)
    // writes `r/` there for the PAX name `r/\xef\xbf\xbd` (it drops bytes that are not ASCII).
    const code = block[156] === 0 ? '' : String.fromCharCode(block[156]!);
    const size = code === '5' ? 0 : numField(pax.get('size')) ?? sizeField(block);
    if (code === 'x' || code === 'g' || code === 'L' || code === 'K') {
      if (size > MAX_META) throw bad(`extended header of ${size} bytes at byte ${r.offset - BLOCK}`);
      const body = Buffer.from((await r.exact(size)) ?? Buffer.alloc(0));
      if (body.length !== size) throw bad('truncated extended header');
      await r.skip(paddingFor(size));
      if (code === 'x') pax = new Map([...pax, ...parsePax(body)]);
      else if (code === 'g') globalPax = new Map([...globalPax, ...parsePax(body)]);
      else if (code === 'L') longPath = cString(body);
      else longLink = cString(body);
      continue;
    }
    const ustar = ustarNames(block);
    const rawPath = str(pax.get('path')) ?? longPath ?? ustar.path;
    // Old tars marked a directory as a file whose name ends in '/' (the whole name, PAX included).
    const kind = (code === '' || code === '0') && rawPath.endsWith('/') ? 'dir' : codeKind(code);
    const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath;
    if (code === 'V') { await r.skip(size + paddingFor(size)); continue; }
    if (kind === undefined) throw bad(`unsupported entry type "${code}" for "${path}"`);
    const fields = new Map([...globalPax, ...pax]);
    const header: TarHeader = {
      path,
      kind,
      mode: (h.mode ?? 0) & 0o7777,
      uid: numField(fields.get('uid')) ?? h.uid ?? 0,
      gid: numField(fields.get('gid')) ?? h.gid ?? 0,
      size: kind === 'file' ? size : 0,
      mtime: Math.floor(numField(fields.get('mtime')) ?? (h.mtime ? h.mtime.getTime() / 1000 : 0)),
    };
    const linkpath = str(pax.get('linkpath')) ?? longLink ?? ustar.linkpath;
    if (linkpath) header.linkpath = linkpath;
    if (kind === 'char' || kind === 'block') {
      // Read the device fields ourselves: node-tar only decodes them in POSIX (not GNU) headers.
      header.devmajor = octal(block, 329, 8);
      header.devminor = octal(block, 337, 8);
    }
    const xattrs: [string, Buffer][] = [];
    for (const [k, v] of fields) if (k.startsWith('SCHILY.xattr.')) xattrs.push([k.slice('SCHILY.xattr.'.length), v]);
    if (xattrs.length) header.xattrs = xattrs;
    pax = new Map();
    longPath = longLink = undefined;
    const body = new BodyCursor(r, header.size);
    yield { header, body: body.chunks() };
    const skip = kind === 'dir' ? 0 : size;
    await r.skip(body.remaining + paddingFor(skip) + (kind === 'file' ? 0 : skip));
  }
  await r.drain();
  digest.diffID = digestFromHash(hash) as string as DiffID;
}

class BodyCursor {
  remaining: number;
  readonly #r: ByteReader;
  constructor(r: ByteReader, size: number) {
    this.#r = r;
    this.remaining = size;
  }
  async *chunks(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      const c = await this.#r.upTo(this.remaining);
      if (!c) throw bad('unexpected end of archive inside a file');
      this.remaining -= c.length;
      yield c;
    }
  }
}

/** ByteReader pulls exact byte counts out of a chunk stream, zero-copy where it can. */
class ByteReader {
  offset = 0;
  readonly #src: AsyncIterator<Buffer>;
  readonly #onChunk: (c: Buffer) => void;
  #chunk: Buffer = Buffer.alloc(0);
  #pos = 0;
  #eof = false;

  constructor(src: AsyncIterable<Buffer>, onChunk: (c: Buffer) => void) {
    this.#src = src[Symbol.asyncIterator]();
    this.#onChunk = onChunk;
  }

  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#chunk.length) {
      if (this.#eof) return false;
      const n = await this.#src.next();
      if (n.done) { this.#eof = true; return false; }
      this.#onChunk(n.value);
      this.#chunk = n.value;
      this.#pos = 0;
    }
    return true;
  }

  /** upTo returns 1..max bytes, or null at end of input. */
  async upTo(max: number): Promise<Buffer | null> {
    if (!(await this.#fill())) return null;
    const end = Math.min(this.#chunk.length, this.#pos + max);
    const out = this.#chunk.subarray(this.#pos, end);
    this.offset += end - this.#pos;
    this.#pos = end;
    return out;
  }

  /** exact returns n bytes, or null at a clean end of input; a partial read is BAD_ARCHIVE. */
  async exact(n: number): Promise<Buffer | null> {
    const first = await this.upTo(n);
    if (!first || first.length === n) return first;
    const parts = [first];
    let got = first.length;
    while (got < n) {
      const c = await this.upTo(n - got);
      if (!c) throw bad('unexpected end of archive');
      parts.push(c);
      got += c.length;
    }
    return Buffer.concat(parts);
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      const c = await this.upTo(n);
      if (!c) throw bad('unexpected end of archive');
      n -= c.length;
    }
  }

  /** drain reads (and hashes) whatever follows the end-of-archive marker. */
  async drain(): Promise<void> {
    while (await this.upTo(Infinity));
  }
}

/**
 * decompress yields the stream's bytes, gunzipped when it starts with gzip's magic 1f 8b (zstd
 * likewise). A stream whose first block is a valid tar header is plain, whatever its first
 * bytes: a tar whose first name starts with `BZh` or 0x1f 0x8b is not compressed.
 */
async function* decompress(input: Readable): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head: Buffer = Buffer.alloc(0);
  let done = false;
  while (head.length < BLOCK && !done) {
    const n = await it.next();
    if (n.done) done = true;
    else head = head.length ? Buffer.concat([head, n.value]) : n.value;
  }
  const rest = async function* () {
    if (head.length) yield head;
    if (done) return;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  };
  if (isHeaderBlock(head)) {
    yield* rest();
    return;
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gz = pipeline(Readable.from(rest()), createGunzip({ chunkSize: 1 << 16 }), () => undefined);
    try {
      for await (const c of gz) yield c as Buffer;
    } catch (e) {
      throw bad(`gzip: ${(e as Error).message}`, e);
    }
    return;
  }
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    // zstd layers (push/save --compression zstd) decompress through the host's zstd tool.
    try {
      for await (const c of zstdDecompress(Readable.from(rest()))) yield c as Buffer;
    } catch (e) {
      throw bad(`zstd: ${(e as Error).message}`, e);
    }
    return;
  }
  if (head[0] === 0xfd && head[1] === 0x37) throw bad('xz-compressed archives are not supported');
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) throw bad('bzip2-compressed archives are not supported');
  yield* rest();
}

/** isHeaderBlock tells whether b starts with a tar header whose checksum is right. */
function isHeaderBlock(b: Buffer): boolean {
  if (b.length < BLOCK) return false;
  const want = parseInt(b.toString('latin1', 148, 156).replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isInteger(want)) return false;
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += b[i]!;
  return sum === want;
}

function bad(msg: string, cause?: unknown): TsbuildError {
  return new TsbuildError('BAD_ARCHIVE', `read tar: ${msg}`, cause === undefined ? {} : { cause });
}

function str(b: Buffer | undefined): string | undefined {
  return b === undefined ? undefined : decodeName(b);
}

/** sizeField decodes the size field (octal, or GNU base-256 when its first byte has the high bit). */
function sizeField(block: Buffer): number {
  if (block[124]! & 0x80) {
    let v = 0;
    for (let i = 125; i < 136; i++) v = v * 256 + block[i]!;
    return v;
  }
  return octal(block, 124, 12);
}

function numField(b: Buffer | undefined): number | undefined {
  if (b === undefined) return undefined;
  const n = Number(b.toString('latin1'));
  return Number.isFinite(n) ? n : undefined;
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return decodeName(b, 0, nul < 0 ? b.length : nul);
}

function octal(b: Buffer, off: number, len: number): number {
  const s = b.subarray(off, off + len).toString('latin1').replace(/\0.*$/s, '').trim();
  return s === '' ? 0 : parseInt(s, 8) || 0;
}
