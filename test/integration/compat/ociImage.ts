import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const REF_NAME = 'org.opencontainers.image.ref.name';

function putBlob(oci: string, data: Buffer): { digest: string; size: number } {
  const hex = createHash('sha256').update(data).digest('hex');
  const dir = join(oci, 'blobs/sha256');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/**
 * writeImportedImage puts a one-layer image made from a rootfs tar into the OCI layout at
 * ROOT/oci, tagged name, as `docker import` makes it (history comment "Imported from -").
 * Written directly, independently of tsbuild, so the compat tests depend only on `build`.
 */
export function writeImportedImage(root: string, tarPath: string, name: string): void {
  const oci = join(root, 'oci');
  mkdirSync(oci, { recursive: true });
  if (!existsSync(join(oci, 'oci-layout'))) writeFileSync(join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const layer = putBlob(oci, readFileSync(tarPath));
  const created = '2024-01-01T00:00:00Z';
  const config = {
    architecture: 'amd64', os: 'linux', created, config: {},
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created, comment: 'Imported from -' }],
  };
  const cfg = putBlob(oci, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  };
  const man = putBlob(oci, Buffer.from(JSON.stringify(manifest)));
  const indexPath = join(oci, 'index.json');
  const index = existsSync(indexPath) ? JSON.parse(readFileSync(indexPath, 'utf8')) : { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
  index.manifests = index.manifests.filter((m: any) => m.annotations?.[REF_NAME] !== name);
  index.manifests.push({ mediaType: manifest.mediaType, ...man, annotations: { [REF_NAME]: name } });
  writeFileSync(indexPath, JSON.stringify(index));
}

/** ImageFiles are a stored image's config and its layer blob paths, base first. */
export interface ImageFiles {
  config: Record<string, any>;
  layers: string[];
}

/** readImageFiles finds a tagged image in ROOT/oci (reading the layout directly). */
export function readImageFiles(root: string, name: string): ImageFiles {
  const oci = join(root, 'oci');
  const blob = (d: string) => join(oci, 'blobs/sha256', d.replace('sha256:', ''));
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8'));
  const full = /:[^/]+$/.test(name) ? name : `${name}:latest`;
  const desc = index.manifests.find((m: any) => m.annotations?.[REF_NAME] === full);
  if (!desc) throw new Error(`no image ${full} in ${oci}`);
  const manifest = JSON.parse(readFileSync(blob(desc.digest), 'utf8'));
  return { config: JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')), layers: manifest.layers.map((l: any) => blob(l.digest)) };
}
