/** RawEntry is one hand-made tar entry (for crafting hostile archives node-tar would sanitise). */
export interface RawEntry {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'link';
  body?: string;
  linkname?: string;
  mode?: number;
}

const TYPEFLAG = { file: '0', link: '1', symlink: '2', dir: '5' } as const;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** rawTar writes ustar blocks verbatim: names are not cleaned, so `..` and `/` survive. */
export function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'file';
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write(octal(e.mode ?? (type === 'dir' ? 0o755 : 0o644), 8), 100, 'latin1');
    h.write(octal(0, 8), 108, 'latin1');
    h.write(octal(0, 8), 116, 'latin1');
    h.write(octal(type === 'file' ? body.length : 0, 12), 124, 'latin1');
    h.write(octal(1_600_000_000, 12), 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write(TYPEFLAG[type], 156, 'latin1');
    h.write(e.linkname ?? '', 157, 100, 'utf8');
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    blocks.push(h);
    if (type === 'file' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
