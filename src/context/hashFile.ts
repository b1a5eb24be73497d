import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';

/** HashFileFn hashes one file's content to sha256 hex (injectable, e.g. to count reads in tests). */
export type HashFileFn = (absPath: string, size: number) => Promise<string>;

const SMALL = 1 << 20;
const CHUNK = 1 << 20;

/**
 * hashFile returns the sha256 hex of a file. Small files are read in one call; larger ones are
 * streamed in 1 MiB chunks through one buffer, so memory stays bounded whatever the size.
 */
export const hashFile: HashFileFn = async (absPath, size) => {
  if (size <= SMALL) return createHash('sha256').update(await readFile(absPath)).digest('hex');
  const h = createHash('sha256');
  const fh = await open(absPath, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
};
