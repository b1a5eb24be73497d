import type { Readable } from 'node:stream';
import { TsbuildError } from '../core/errors.ts';
import { RegistryClient } from '../registry/client.ts';
import { RegistryError } from '../registry/errors.ts';
import { refString, type RegistryRef } from '../registry/reference.ts';
import { cacheHint, type CacheBackend } from './types.ts';

/** registryBackend keeps the cache as a manifest tagged in a registry repository (`--cache-to type=registry,ref=…`). */
export function registryBackend(client: RegistryClient, ref: RegistryRef): CacheBackend {
  return {
    where: refString(ref),
    async readManifest() {
      try {
        const m = await client.getManifest(ref);
        // getManifest parsed it (every digest); an index is not a cache.
        if ('manifests' in m.manifest) throw new TsbuildError('BAD_CACHE', `cache ${refString(ref)}: an image index, not a cache manifest`, { hint: cacheHint(refString(ref)) });
        return m.manifest;
      } catch (e) {
        if (e instanceof RegistryError && (e.status === 404 || e.registryCode === 'MANIFEST_UNKNOWN' || e.registryCode === 'NAME_UNKNOWN')) return undefined;
        throw e;
      }
    },
    async readBlob(d) {
      const body = await client.openBlob(ref, d.digest);
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    openBlob: (d) => client.openBlob(ref, d.digest) as Promise<Readable>,
    async putBlob(d, open) {
      await client.pushBlob(ref, d, open);
    },
    async putManifest(bytes, mediaType) {
      return (await client.pushManifest(ref, bytes, mediaType)).digest;
    },
    close: () => client.close(),
  };
}
