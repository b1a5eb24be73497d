import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { displayName, osPath } from '../core/names.ts';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TsbuildError } from '../core/errors.ts';
import { spawnStreaming } from '../sys/spawnStreaming.ts';

/** Compression is a stream format ADD recognises by its magic bytes (as moby's DecompressStream). */
export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** detectCompression reads the magic bytes at the start of a file. */
export function detectCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Node's zlib has no bzip2, xz or zstd: those are piped through the host tool. */
const TOOLS: Record<'bzip2' | 'xz' | 'zstd', string> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

/**
 * openDecompressed streams the decompressed content of a file. close() stops early (killing a
 * helper process); it is safe to call after the stream ended.
 */
export async function openDecompressed(path: string): Promise<{ stream: Readable; compression: Compression; close: () => void }> {
  const compression = detectCompression(await readHead(path, 6));
  const file = createReadStream(osPath(path));
  if (compression === 'none') return { stream: file, compression, close: () => file.destroy() };
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    file.on('error', (e) => gunzip.destroy(e));
    file.pipe(gunzip);
    return { stream: gunzip, compression, close: () => { file.destroy(); gunzip.destroy(); } };
  }
  const tool = TOOLS[compression];
  const out = new PassThrough();
  let stderr = '';
  const errSink = new Writable({ write(chunk: Buffer, _enc, cb) { stderr += chunk.toString(); cb(); } });
  const child = spawnStreaming(tool, ['-dc'], { stdin: file, stdout: out, stderr: errSink });
  let closed = false;
  // A read error (or one after close(), e.g. the file removed meanwhile) must not go unhandled.
  file.on('error', (e) => { if (!closed) out.destroy(e); });
  child.done.then(({ code, signal }) => {
    if (code === 0) out.end();
    else if (!closed) out.destroy(new TsbuildError('BAD_ARCHIVE', `${tool} -dc ${displayName(path)}: ${stderr.trim().split('\n').pop() || `exit ${code ?? signal}`}`));
  }, (e: unknown) => out.destroy(e as Error));
  return {
    stream: out,
    compression,
    close: () => {
      closed = true;
      file.destroy();
      if (!child.exited()) child.kill('SIGKILL');
      out.destroy();
    },
  };
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(osPath(path), 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * isTarArchive tells whether a regular file is a (possibly compressed) tar: its decompressed
 * first 512-byte block is a tar header with a valid checksum, as Go's tar.Reader.Next() requires.
 * An empty file, a file with a tar-like name or an all-zero archive is not one.
 */
export async function isTarArchive(path: string): Promise<boolean> {
  const { stream, compression, close } = await openDecompressed(path);
  try {
    const head = await readUpTo(stream, 512);
    return head.length === 512 && validTarHeader(head);
  } catch (e) {
    // A missing helper tool must not silently turn an archive into a copied file.
    if (e instanceof TsbuildError && e.code === 'RUNTIME') {
      throw new TsbuildError('BAD_ARCHIVE', `cannot tell whether ${displayName(path)} is a ${compression} tar archive: ${e.message}`, {
        cause: e, hint: `install ${compression} on the build host, or use ADD --unpack=false`,
      });
    }
    return false; // not decompressible: not an archive, copied as it is
  } finally {
    close();
  }
}

async function readUpTo(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    chunks.push(c);
    have += c.length;
    if (have >= n) break;
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** validTarHeader checks a 512-byte block's checksum (unsigned sum with the checksum field as spaces). */
export function validTarHeader(block: Buffer): boolean {
  if (block.every((b) => b === 0)) return false;
  const field = block.toString('latin1', 148, 156).replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === parseInt(field, 8);
}
