import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hexOf, sha256Of, type Digest } from '../core/digest.ts';
import { isErrno, TsbuildError } from '../core/errors.ts';
import { MediaType } from '../oci/mediaTypes.ts';
import { MAX_JSON_BYTES, parseIndex, parseJsonBytes, parseManifest } from '../oci/parseJson.ts';
import type { Index } from '../oci/types.ts';
import { cacheHint, type CacheBackend } from './types.ts';

const REF = 'tsbuild-cache';

/**
 * localBackend keeps the cache as an OCI image layout in dir (`--cache-to
 * type=local,dest=DIR`), for CI systems that keep a directory between runs.
 * Blobs are written to a temp name and renamed, so an interrupted export never
 * leaves a torn blob; index.json is replaced last.
 */
export function localBackend(dir: string): CacheBackend {
  const blob = (d: Digest) => join(dir, 'blobs', 'sha256', hexOf(d));
  const atomicWrite = async (path: string, data: Buffer | string) => {
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  };
  return {
    where: dir,
    async readManifest() {
      const src = (what: string) => ({ what: `cache ${dir}: ${what}`, code: 'BAD_CACHE' as const, hint: cacheHint(dir) });
      let bytes: Buffer;
      try {
        bytes = await readFile(join(dir, 'index.json'));
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return undefined;
        throw new TsbuildError('IO', `cache ${dir}: cannot read index.json: ${(e as Error).message}`, { cause: e });
      }
      // Every digest is parsed before a blob path is made of it (blob() checks again).
      const index = parseIndex(parseJsonBytes(bytes, src('index.json')), src('index.json'));
      const i = index.manifests.findIndex((m) => m.annotations?.['org.opencontainers.image.ref.name'] === REF);
      if (i < 0) return undefined;
      const desc = index.manifests[i]!;
      if (desc.size > MAX_JSON_BYTES) throw new TsbuildError('BAD_CACHE', `cache ${dir}: index.json: manifests[${i}]: a manifest of ${desc.size} bytes`, { hint: cacheHint(dir) });
      const m = await readFile(blob(desc.digest));
      const got = sha256Of(m);
      if (got !== desc.digest) throw new TsbuildError('DIGEST_MISMATCH', `cache ${dir}: index.json: manifests[${i}]: blob ${desc.digest} holds ${got}`, { hint: cacheHint(dir) });
      return parseManifest(parseJsonBytes(m, src('manifest')), src('manifest'));
    },
    readBlob: (d) => readFile(blob(d.digest)),
    openBlob: async (d) => createReadStream(blob(d.digest)),
    async putBlob(d, open) {
      if (await stat(blob(d.digest)).then(() => true, () => false)) return;
      await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
      const tmp = `${blob(d.digest)}.${randomBytes(4).toString('hex')}.tmp`;
      await pipeline(open(), createWriteStream(tmp));
      await rename(tmp, blob(d.digest));
    },
    async putManifest(bytes, mediaType) {
      const digest = sha256Of(bytes);
      await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
      await atomicWrite(blob(digest), bytes);
      await atomicWrite(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType, digest, size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': REF } }] };
      await atomicWrite(join(dir, 'index.json'), JSON.stringify(index));
      return digest;
    },
    close() {},
  };
}
