import { open, type FileHandle } from 'node:fs/promises';
import { Header } from 'tar';
import type { DiffID } from '../core/digest.ts';
import type { Descriptor } from '../oci/types.ts';
import { BLOCK, paddingFor, parsePax } from '../snapshot/tarFormat.ts';
import { readTar } from '../snapshot/tarReader.ts';
import type { ContentStore } from '../store/types.ts';

const sizes = new Map<DiffID, Promise<number>>();

/**
 * layerContentSize is the size `docker history` and `docker images` show for a
 * layer: the bytes of the regular files it adds (tar headers, padding and
 * hardlinked copies not counted). An uncompressed layer (what the store keeps
 * for layers it made) is measured from its headers alone, jumping over file
 * bodies, so a 300 MB layer costs milliseconds; a compressed one is read once
 * per process.
 */
export function layerContentSize(content: ContentStore, diffID: DiffID, layer: Descriptor): Promise<number> {
  let p = sizes.get(diffID);
  if (p === undefined) {
    p = headerSizes(content.path(layer.digest)).then((n) => n ?? streamSizes(content, layer));
    sizes.set(diffID, p);
  }
  return p;
}

/** headerSizes sums file sizes by reading only the headers of a plain tar; undefined if it is not one. */
async function headerSizes(path: string): Promise<number | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const r = new WindowReader(fh);
    let pos = 0;
    let total = 0;
    let paxSize: number | undefined;
    for (;;) {
      const block = await r.at(pos, BLOCK);
      if (block.length < BLOCK || block.every((b) => b === 0)) return pos === 0 ? undefined : total;
      const h = new Header(block);
      if (!h.cksumValid) return undefined;
      const size = paxSize ?? h.size ?? 0;
      paxSize = undefined;
      const code = h.typeKey;
      if (code === 'x') {
        const s = parsePax(Buffer.from(await r.at(pos + BLOCK, size))).get('size');
        paxSize = s === undefined ? undefined : Number(s.toString('latin1'));
      } else if (code === '0' || code === '' || code === '7') {
        total += size;
      }
      // Directories, links and devices carry no body, whatever their size field says.
      const body = NO_BODY.has(code ?? '') ? 0 : size;
      pos += BLOCK + body + paddingFor(body);
    }
  } finally {
    await fh.close();
  }
}

const NO_BODY = new Set(['1', '2', '3', '4', '5', '6']);
const WINDOW = 1 << 18;

/** WindowReader serves small reads from a 256 KiB window, so the headers of many small files cost one read. */
class WindowReader {
  readonly #fh: FileHandle;
  #buf = Buffer.alloc(0);
  #start = 0;

  constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  /** at returns up to n bytes at pos (fewer at the end of the file). */
  async at(pos: number, n: number): Promise<Buffer> {
    if (pos < this.#start || pos + n > this.#start + this.#buf.length) {
      const buf = Buffer.alloc(Math.max(WINDOW, n));
      const { bytesRead } = await this.#fh.read(buf, 0, buf.length, pos);
      this.#buf = buf.subarray(0, bytesRead);
      this.#start = pos;
    }
    return this.#buf.subarray(pos - this.#start, pos - this.#start + n);
  }
}

async function streamSizes(content: ContentStore, layer: Descriptor): Promise<number> {
  let total = 0;
  for await (const { header } of readTar(content.open(layer.digest))) {
    if (header.kind === 'file') total += header.size;
  }
  return total;
}
