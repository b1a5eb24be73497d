import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { Header } from 'tar';
import { TsbuildError } from '../core/errors.ts';

const BLOCK = 512;
/** Every entry gets this mtime, so the same images always give the same archive bytes. */
const EPOCH = new Date(0);

/**
 * TarWriter writes a ustar stream entry by entry to out, honouring back-pressure:
 * bodies are streamed, never held whole. Entries are written in the order added.
 */
export class TarWriter {
  constructor(private readonly out: Writable) {}

  private async write(b: Buffer): Promise<void> {
    // events.once also rejects when out emits 'error' meanwhile.
    if (!this.out.write(b)) await once(this.out, 'drain');
  }

  private header(name: string, type: 'File' | 'Directory' | 'SymbolicLink', size: number, mode: number, linkpath?: string): Buffer {
    const h = new Header({ path: name, mode, uid: 0, gid: 0, size, mtime: EPOCH, type, uname: '', gname: '', ...(linkpath !== undefined ? { linkpath } : {}) });
    if (h.encode()) throw new TsbuildError('INTERNAL', `tar entry name too long for ustar: ${name}`);
    return h.block!;
  }

  /** dir adds a directory entry (name without trailing slash). */
  async dir(name: string): Promise<void> {
    await this.write(this.header(`${name}/`, 'Directory', 0, 0o755));
  }

  /** symlink adds a symbolic link entry (docker save links repeated layers this way). */
  async symlink(name: string, target: string): Promise<void> {
    await this.write(this.header(name, 'SymbolicLink', 0, 0o777, target));
  }

  /** file adds a regular file of exactly size bytes from a buffer or a fresh stream; a short or long stream is an error. */
  async file(name: string, size: number, body: Buffer | string | (() => Readable)): Promise<void> {
    await this.write(this.header(name, 'File', size, 0o644));
    let n = 0;
    if (typeof body === 'function') {
      for await (const c of body() as AsyncIterable<Buffer>) {
        n += c.length;
        if (n > size) break;
        await this.write(c);
      }
    } else {
      const b = Buffer.from(body);
      n = b.length;
      await this.write(b);
    }
    if (n !== size) throw new TsbuildError('IO', `archive entry ${name}: expected ${size} bytes, source gave ${n > size ? 'more' : n}`);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) await this.write(Buffer.alloc(pad));
  }

  /** finish writes the end-of-archive blocks and ends out, resolving when it is flushed. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    this.out.end();
    if (!this.out.writableFinished) await once(this.out, 'finish');
  }
}
