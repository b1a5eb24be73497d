import type { DiffID } from '../core/digest.ts';
import { readTar } from '../snapshot/tarReader.ts';
import type { ContentStore } from '../store/types.ts';
import type { Descriptor } from '../oci/types.ts';

const sizes = new Map<DiffID, Promise<number>>();

/**
 * layerContentSize is the size `docker history` and `docker images` show for a
 * layer: the bytes of the regular files it adds (tar headers, padding and
 * hardlinked copies not counted). It reads the layer blob once per process.
 */
export function layerContentSize(content: ContentStore, diffID: DiffID, layer: Descriptor): Promise<number> {
  let p = sizes.get(diffID);
  if (p === undefined) {
    p = sumFiles(content, layer);
    sizes.set(diffID, p);
  }
  return p;
}

async function sumFiles(content: ContentStore, layer: Descriptor): Promise<number> {
  let total = 0;
  for await (const { header } of readTar(content.open(layer.digest))) {
    if (header.kind === 'file') total += header.size;
  }
  return total;
}
