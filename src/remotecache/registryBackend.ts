import type { Readable } from 'node:stream';
import type { Manifest } from '../oci/types.ts';
import { RegistryClient } from '../registry/client.ts';
import { RegistryError } from '../registry/errors.ts';
import { refString, type RegistryRef } from '../registry/reference.ts';
import type { CacheBackend } from './types.ts';

/** registryBackend keeps the cache as a manifest tagged in a registry repository (`--cache-to type=registry,ref=…`). */
export function registryBackend(client: RegistryClient, ref: RegistryRef): CacheBackend {
  return {
    where: refString(ref),
    async readManifest() {
      try {
        const m = await client.getManifest(ref);
        return m.manifest as Manifest;
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
