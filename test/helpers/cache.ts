import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonEvents } from './image.ts';

/** ExportedCache is what a `--cache-to type=local,dest=DIR` directory holds, read without tsbuild's code. */
export interface ExportedCache {
  /** createdBy of every record, sorted. */
  steps: string[];
  /** DiffIDs of the records' layers (null-layer records have none). */
  recordLayers: string[];
  /** DiffIDs annotated on the manifest's layer blobs. */
  blobLayers: string[];
}

/** readLocalCache reads the cache manifest tagged tsbuild-cache in an OCI layout dir. */
export function readLocalCache(dir: string): ExportedCache {
  const blob = (d: string) => readFileSync(join(dir, 'blobs/sha256', d.slice(7)));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'tsbuild-cache');
  if (!desc) throw new Error(`no tsbuild-cache manifest in ${dir}`);
  const manifest = JSON.parse(blob(desc.digest).toString()) as { config: { digest: string }; layers: { annotations: Record<string, string> }[] };
  const config = JSON.parse(blob(manifest.config.digest).toString()) as { records: { createdBy: string; layer: { diffID: string } | null }[] };
  return {
    steps: config.records.map((r) => r.createdBy).sort(),
    recordLayers: config.records.flatMap((r) => (r.layer ? [r.layer.diffID] : [])).sort(),
    blobLayers: manifest.layers.map((l) => l.annotations['dev.tsbuild.cache.diffid']!).sort(),
  };
}

/** buildSteps lists, from --progress=json output, the steps that ran (FROM excluded) and those that were cached. */
export function buildSteps(stderr: string): { ran: string[]; cached: string[] } {
  const ev = jsonEvents(stderr);
  return {
    ran: ev.filter((e) => e.type === 'step.start' && !e.step.text.startsWith('FROM')).map((e) => e.step.text),
    cached: ev.filter((e) => e.type === 'step.cached').map((e) => e.step.text),
  };
}

/** warnings lists the messages of warning events in --progress=json output. */
export function warnings(stderr: string): string[] {
  return jsonEvents(stderr).filter((e) => e.type === 'warning').map((e) => String(e.message));
}
