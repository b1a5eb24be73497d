import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import { TsbuildError } from '../core/errors.ts';
import type { Descriptor } from '../oci/types.ts';
import { repoScope } from './auth.ts';
import type { RegistryClient } from './client.ts';
import { drain, header, type HttpResponse } from './http.ts';
import type { RegistryRef } from './reference.ts';

/** PushBlobResult says how a blob got into the repository: already there, mounted from another repository, or uploaded. */
export type PushBlobResult = 'exists' | 'mounted' | 'uploaded';

/**
 * uploadBlob runs one upload session: POST (a mount request when mountFrom is set;
 * 201 means done, 202 falls back to uploading), then one PUT with the whole body, or
 * PATCH chunks with Content-Range followed by a closing PUT ?digest=.
 */
export async function uploadBlob(
  client: RegistryClient,
  repo: RegistryRef,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  open: () => Readable,
  mountFrom: string | undefined,
  chunkSize: number | undefined,
): Promise<PushBlobResult> {
  const push = repoScope(repo.repository, 'pull,push');
  const start = new URL(`/v2/${repo.repository}/blobs/uploads/`, client.baseUrl(repo.registry));
  const scopes = [push];
  if (mountFrom) {
    start.searchParams.set('mount', desc.digest);
    start.searchParams.set('from', mountFrom);
    scopes.push(repoScope(mountFrom, 'pull'));
  }
  const res = await client.request(repo.registry, { method: 'POST', url: start, scopes, ok: [201, 202] });
  await drain(res);
  if (res.status === 201) return 'mounted';
  let location = nextLocation(res);
  if (chunkSize !== undefined && chunkSize > 0 && desc.size > chunkSize) {
    location = await patchChunks(client, repo, location, open(), chunkSize, [push]);
    await finish(client, repo, location, desc.digest, undefined, [push]);
  } else {
    await finish(client, repo, location, desc.digest, { size: desc.size, open }, [push]);
  }
  return 'uploaded';
}

/**
 * uploadStream pushes a blob whose digest is known only once it has all been
 * produced (a layer being compressed): POST, then one PATCH streaming body with
 * chunked transfer encoding (no Content-Range: the distribution spec's streamed
 * upload, which Docker's own push uses), then PUT ?digest= when digest resolves.
 * The body can be sent only once, so nothing here is retried: on failure the
 * caller uploads the finished blob again by the ordinary, retried path.
 */
export async function uploadStream(client: RegistryClient, repo: RegistryRef, body: Readable, digest: Promise<Digest>): Promise<void> {
  const push = repoScope(repo.repository, 'pull,push');
  const start = new URL(`/v2/${repo.repository}/blobs/uploads/`, client.baseUrl(repo.registry));
  const res = await client.request(repo.registry, { method: 'POST', url: start, scopes: [push], ok: [202] });
  await drain(res);
  let sent = false;
  const once = () => {
    if (sent) throw new TsbuildError('REGISTRY', `${repo.registry}: a streamed upload cannot be resent`);
    if (body.destroyed) throw new TsbuildError('REGISTRY', `${repo.registry}: the streamed blob failed before its upload began`);
    sent = true;
    return body;
  };
  const patched = await client.request(repo.registry, {
    method: 'PATCH', url: nextLocation(res), scopes: [push], ok: [202, 204],
    headers: { 'Content-Type': 'application/octet-stream' },
    body: once,
  });
  await drain(patched);
  await finish(client, repo, nextLocation(patched), await digest, undefined, [push]);
}

function nextLocation(res: HttpResponse): URL {
  const loc = header(res, 'location');
  if (!loc) throw new TsbuildError('REGISTRY', `${res.url.host}: upload response without Location`);
  return new URL(loc, res.url);
}

/** finish closes the session with PUT ?digest= (carrying the whole blob for a monolithic upload). */
async function finish(
  client: RegistryClient, repo: RegistryRef, location: URL, digest: Digest,
  body: { size: number; open: () => Readable } | undefined, scopes: string[],
): Promise<void> {
  const url = new URL(location);
  // Append rather than searchParams.set: the opaque _state value must go back byte for byte.
  url.search = `${url.search ? `${url.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
  const res = await client.request(repo.registry, {
    method: 'PUT', url, scopes, ok: [201, 204],
    headers: body ? { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.size) } : {},
    ...(body ? { body: body.open } : {}),
  });
  await drain(res);
}

/** patchChunks sends the stream as PATCH requests of at most chunkSize bytes (each buffered: bounded memory); returns the last Location. */
async function patchChunks(client: RegistryClient, repo: RegistryRef, location: URL, stream: Readable, chunkSize: number, scopes: string[]): Promise<URL> {
  let offset = 0;
  for await (const chunk of chunksOf(stream, chunkSize)) {
    const res = await client.request(repo.registry, {
      method: 'PATCH', url: location, scopes, ok: [202, 204],
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
      body: chunk,
    });
    await drain(res);
    offset += chunk.length;
    location = nextLocation(res);
  }
  return location;
}

/** chunksOf regroups a byte stream into buffers of exactly size bytes (the last may be shorter); they may be views of the source's chunks. */
export async function* chunksOf(stream: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of stream) {
    let buf = c;
    // Whole blocks straight from the source are passed on as views, not copied.
    while (have === 0 && buf.length >= size) {
      yield buf.subarray(0, size);
      buf = buf.subarray(size);
    }
    while (have + buf.length >= size) {
      const take = size - have;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      have = 0;
      buf = buf.subarray(take);
    }
    if (buf.length) { parts.push(buf); have += buf.length; }
  }
  if (have) yield Buffer.concat(parts);
}
