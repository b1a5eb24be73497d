import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { TsbuildError } from '../core/errors.ts';
import { parseDigest, sha256Of, type Digest } from '../core/digest.ts';
import { MediaType, isIndexMediaType } from '../oci/mediaTypes.ts';
import { parseJsonBytes, parseManifestOrIndex } from '../oci/parseJson.ts';
import type { Descriptor, Index, Manifest, Platform } from '../oci/types.ts';
import type { ContentStore } from '../store/types.ts';
import { Authenticator, repoScope } from './auth.ts';
import { anonymous, type CredentialStore } from './credentials.ts';
import { errorFromBody, networkError } from './errors.ts';
import { Agents, drain, header, readText, send, type HttpResponse } from './http.ts';
import { DEFAULT_PLATFORM, choosePlatform } from './platform.ts';
import { apiHost, isInsecureHost, manifestRef, refString, withDigest, type RegistryRef } from './reference.ts';
import { withRetry } from './retry.ts';
import { uploadBlob, type PushBlobResult } from './upload.ts';

/** UNTRUSTED_HINT goes with an invalid document or digest a registry served. */
export const UNTRUSTED_HINT = 'the registry served an invalid image manifest, index or config; nothing was tagged (tell its operator)';

/** MANIFEST_ACCEPT lists every manifest kind tsbuild reads, for the Accept header. */
export const MANIFEST_ACCEPT = [MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList].join(', ');

/**
 * DIRECT_GET_MIN: blobs at least this large are downloaded by getInto (a connection
 * of their own, no per-read allocations: half the CPU of node:http on a big layer);
 * smaller ones keep the keep-alive agent, where a new connection would cost more.
 */
const DIRECT_GET_MIN = 1 << 20;

/** RegistryClientOptions configures a client; every field has a default. */
export interface RegistryClientOptions {
  credentials?: CredentialStore;
  /** Hosts (with or without port) spoken to over plain HTTP besides localhost and 127.0.0.1. */
  insecure?: readonly string[];
  /** Parallel blob transfers in pullImage/pushImage (default 4). */
  concurrency?: number;
  /** Retries of temporary failures per operation (default 3), first back-off in ms (default 200). */
  retries?: number;
  retryBaseMs?: number;
  /** Upload blobs larger than this in PATCH chunks of this size; unset = one monolithic PUT. */
  chunkSize?: number;
  userAgent?: string;
  signal?: AbortSignal;
  /** Socket idle timeout per request in ms (default 60 s). */
  timeoutMs?: number;
}

/** RequestSpec is one API call: the scopes it needs and the statuses that count as success. */
export interface RequestSpec {
  method: string;
  /** Absolute URL, or a path on the registry (`/v2/...`). */
  url: URL | string;
  headers?: Record<string, string>;
  /** A body; a stream must come from a factory, so that a 401 can be answered and the request resent. */
  body?: Buffer | string | (() => Readable);
  scopes: string[];
  ok: number[];
  /** For a GET: the 200 body is written here (HttpRequest.into); await the response's done. */
  into?: Writable;
}

/** FetchedManifest is a manifest or index with its exact bytes (which its digest is taken over). */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  manifest: Manifest | Index;
}

/**
 * RegistryClient speaks the OCI distribution API to any number of registries.
 * Each method is one operation, retried on temporary errors; callers that move
 * many blobs bound their parallelism with `limit` (pullImage and pushImage do).
 */
export class RegistryClient {
  /** Bounds parallel blob transfers; wrap each blob operation, never nest. */
  readonly limit: LimitFunction;
  readonly opts: Readonly<RegistryClientOptions>;
  private readonly agents = new Agents();
  private readonly auths = new Map<string, Authenticator>();
  private readonly ua: string;

  constructor(opts: RegistryClientOptions = {}) {
    this.opts = opts;
    this.limit = pLimit(opts.concurrency ?? 4);
    this.ua = opts.userAgent ?? 'tsbuild/0.1';
  }

  /** baseUrl is the API origin of a registry (http for localhost/127.0.0.1/insecure hosts). */
  baseUrl(registry: string): URL {
    const scheme = isInsecureHost(registry, this.opts.insecure) ? 'http' : 'https';
    return new URL(`${scheme}://${apiHost(registry)}/`);
  }

  /** authenticator returns the (cached) Authenticator of a registry. */
  authenticator(registry: string): Authenticator {
    let a = this.auths.get(registry);
    if (!a) {
      const cred = (this.opts.credentials ?? anonymous).get(registry);
      a = new Authenticator(registry, this.baseUrl(registry), cred, this.agents, this.ua);
      this.auths.set(registry, a);
    }
    return a;
  }

  /**
   * request sends one authorized request. A 401 is answered once (new challenge,
   * fresh token, credentials); any status outside spec.ok becomes a RegistryError.
   */
  async request(registry: string, spec: RequestSpec): Promise<HttpResponse> {
    const auth = this.authenticator(registry);
    const url = new URL(spec.url, this.baseUrl(registry));
    const signal = this.opts.signal;
    let scopes = spec.scopes;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'User-Agent': this.ua, ...spec.headers };
      const a = await auth.authorization(scopes, signal);
      if (a) headers.Authorization = a;
      const body = typeof spec.body === 'function' ? spec.body() : spec.body;
      const res = await send({
        method: spec.method, url, headers, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}), ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
        ...(spec.into ? { into: spec.into } : {}),
      }, this.agents);
      if (spec.ok.includes(res.status)) return res;
      if (typeof body === 'object' && !Buffer.isBuffer(body)) body.destroy();
      const retryScopes = res.status === 401 && attempt === 0 ? auth.unauthorized(res, scopes) : undefined;
      if (retryScopes) {
        await drain(res);
        scopes = retryScopes;
        continue;
      }
      const text = spec.method === 'HEAD' ? '' : (await readText(res, 1 << 20).catch(() => Buffer.alloc(0))).toString('utf8');
      throw errorFromBody(spec.method, url, res.status, text, res.status === 401 || res.status === 403 ? auth.hint() : undefined);
    }
  }

  /** retry runs op with this client's retry policy. */
  retry<T>(op: () => Promise<T>): Promise<T> {
    return withRetry(op, { retries: this.opts.retries ?? 3, baseMs: this.opts.retryBaseMs ?? 200, ...(this.opts.signal ? { signal: this.opts.signal } : {}) });
  }

  /** resolve finds the descriptor a tag or digest points at (HEAD, falling back to GET without Docker-Content-Digest). */
  resolve(ref: RegistryRef): Promise<Descriptor> {
    return this.retry(async () => {
      const res = await this.request(ref.registry, {
        method: 'HEAD', url: manifestPath(ref), headers: { Accept: MANIFEST_ACCEPT }, scopes: [repoScope(ref.repository, 'pull')], ok: [200],
      });
      await drain(res);
      const digest = header(res, 'docker-content-digest');
      const type = header(res, 'content-type');
      const size = Number(header(res, 'content-length'));
      if (digest && type && Number.isFinite(size) && (!ref.digest || digest === ref.digest)) {
        return { mediaType: type, digest: parseDigest(digest, { what: `manifest ${refString(ref)}: Docker-Content-Digest`, hint: UNTRUSTED_HINT }), size };
      }
      return (await this.getManifestOnce(ref)).descriptor;
    });
  }

  /** getManifest downloads a manifest or index, verifying its digest (against the ref's digest, else the registry's header). */
  getManifest(ref: RegistryRef): Promise<FetchedManifest> {
    return this.retry(() => this.getManifestOnce(ref));
  }

  private async getManifestOnce(ref: RegistryRef): Promise<FetchedManifest> {
    const res = await this.request(ref.registry, {
      method: 'GET', url: manifestPath(ref), headers: { Accept: MANIFEST_ACCEPT }, scopes: [repoScope(ref.repository, 'pull')], ok: [200],
    });
    const bytes = await readText(res);
    const digest = sha256Of(bytes);
    const what = `manifest ${refString(ref)}`;
    const served = header(res, 'docker-content-digest');
    const want = ref.digest ?? (served === undefined ? undefined : parseDigest(served, { what: `${what}: Docker-Content-Digest`, hint: UNTRUSTED_HINT }));
    if (want && want !== digest) throw new TsbuildError('DIGEST_MISMATCH', `${what}: got ${digest}, expected ${want}`);
    // Every digest in it is parsed before anything (a blob path, a URL) is made from it.
    const src = { what, code: 'REGISTRY' as const, hint: UNTRUSTED_HINT };
    const manifest = parseManifestOrIndex(parseJsonBytes(bytes, src), src);
    const mediaType = manifest.mediaType ?? header(res, 'content-type')?.split(';')[0] ?? ('manifests' in manifest ? MediaType.OciIndex : MediaType.OciManifest);
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, manifest };
  }

  /** getImageManifest gets ref's manifest, following an index or manifest list to the platform's entry (default linux/amd64). */
  async getImageManifest(ref: RegistryRef, platform: Platform = DEFAULT_PLATFORM): Promise<FetchedManifest> {
    const top = await this.getManifest(ref);
    if (!isIndexMediaType(top.descriptor.mediaType) && !('manifests' in top.manifest)) return top;
    const d = choosePlatform(top.manifest as Index, platform, refString(ref));
    return this.getManifest(withDigest(ref, d.digest));
  }

  /** blobExists asks with HEAD whether the repository has the blob. */
  blobExists(repo: RegistryRef, digest: Digest): Promise<boolean> {
    return this.retry(async () => {
      const res = await this.request(repo.registry, {
        method: 'HEAD', url: blobPath(repo, digest), scopes: [repoScope(repo.repository, 'pull')], ok: [200, 404],
      });
      await drain(res);
      return res.status === 200;
    });
  }

  /** openBlob starts a download of a blob (no verification: fetchBlob verifies). */
  async openBlob(repo: RegistryRef, digest: Digest): Promise<Readable> {
    const res = await this.request(repo.registry, { method: 'GET', url: blobPath(repo, digest), scopes: [repoScope(repo.repository, 'pull')], ok: [200] });
    return res.body;
  }

  /**
   * fetchBlob downloads a blob into the store, streamed, and commits it only if
   * its digest and size match desc (a cut connection is retried from the start).
   * Blobs of DIRECT_GET_MIN bytes or more go through getInto.
   */
  fetchBlob(repo: RegistryRef, desc: Pick<Descriptor, 'digest' | 'size'>, store: ContentStore): Promise<void> {
    return this.retry(async () => {
      const w = await store.writer();
      const url = new URL(blobPath(repo, desc.digest), this.baseUrl(repo.registry));
      try {
        if (desc.size >= DIRECT_GET_MIN) {
          const res = await this.request(repo.registry, { method: 'GET', url, scopes: [repoScope(repo.repository, 'pull')], ok: [200], into: w.stream });
          await res.done;
        } else {
          const body = await this.openBlob(repo, desc.digest);
          await pipeline(body, w.stream, { end: false }).catch((e: unknown) => {
            throw e instanceof TsbuildError ? e : networkError('GET', url, e);
          });
        }
        await w.commit({ digest: desc.digest, size: desc.size });
      } catch (e) {
        await w.abort();
        throw e;
      }
    });
  }

  /**
   * pushBlob makes the blob present in repo: HEAD first (no upload when present),
   * then a cross-repository mount from the first of mountFrom (other repositories of
   * the same registry known to hold it), else an upload (chunked when larger than
   * chunkSize). open must give a fresh stream of the blob each call.
   */
  pushBlob(repo: RegistryRef, desc: Pick<Descriptor, 'digest' | 'size'>, open: () => Readable, opts: { mountFrom?: readonly string[] } = {}): Promise<PushBlobResult> {
    return this.retry(async () => {
      if (await this.blobExists(repo, desc.digest)) return 'exists';
      const from = (opts.mountFrom ?? []).find((r) => r !== repo.repository);
      return uploadBlob(this, repo, desc, open, from, this.opts.chunkSize);
    });
  }

  /** pushManifest uploads manifest bytes under ref's tag (or digest) and returns its descriptor. */
  pushManifest(ref: RegistryRef, bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256Of(bytes);
    return this.retry(async () => {
      const res = await this.request(ref.registry, {
        method: 'PUT', url: `/v2/${ref.repository}/manifests/${ref.tag ?? digest}`, headers: { 'Content-Type': mediaType }, body: bytes,
        scopes: [repoScope(ref.repository, 'pull,push')], ok: [200, 201, 202],
      });
      await drain(res);
      return { mediaType, digest, size: bytes.length };
    });
  }

  /**
   * checkLogin proves the client's credentials for registry: GET /v2/ authorized as
   * a login would be (basic credentials, or a token with no scope). Throws UNAUTHORIZED.
   */
  async checkLogin(registry: string): Promise<void> {
    await drain(await this.request(registry, { method: 'GET', url: '/v2/', scopes: [], ok: [200] }));
  }

  /** close frees the keep-alive connections. */
  close(): void {
    this.agents.destroy();
  }
}

/** manifestPath is /v2/<repo>/manifests/<tag|digest>. A tag is used when pushing with both, the digest when reading. */
function manifestPath(ref: RegistryRef): string {
  return `/v2/${ref.repository}/manifests/${manifestRef(ref)}`;
}

/** blobPath is /v2/<repo>/blobs/<digest>. */
export function blobPath(repo: Pick<RegistryRef, 'repository'>, digest: Digest): string {
  return `/v2/${repo.repository}/blobs/${digest}`;
}
