// Parsers of the image-spec documents that come from outside (archives, registries,
// remote caches): every digest in them goes through core's parseDigest before anything
// uses it, and the shapes the code relies on (lists, descriptors, byte counts) are
// checked, so that `JSON.parse(...) as Manifest` never hands a path or a non-string to
// the store. Each parser returns its input, now typed; fields tsbuild does not read
// are left as they are.
import { parseDiffID, parseDigest } from '../core/digest.ts';
import { TsbuildError, type ErrorCode } from '../core/errors.ts';
import type { Descriptor, ImageConfig, Index, Manifest } from './types.ts';

/**
 * MAX_JSON_BYTES bounds a manifest, index, config or archive metadata file that is
 * read whole into memory. Real ones are far smaller (configs of long histories reach
 * a few hundred KiB); registries refuse manifests over 4 MiB.
 */
export const MAX_JSON_BYTES = 8 << 20;

/** JsonSource says where a document comes from, for errors: `index.json`, `blob sha256:…`, `registry.example/app:1 manifest`. */
export interface JsonSource {
  what: string;
  /** Code of a document of the wrong shape (a bad digest in it is always BAD_DIGEST). */
  code: ErrorCode;
  hint?: string;
  /** Bound on the document's size when not MAX_JSON_BYTES (a build cache's records). */
  max?: number;
}

/** parseJsonBytes parses a document of at most MAX_JSON_BYTES (or src.max) bytes; anything else is src.code naming src.what. */
export function parseJsonBytes(bytes: Uint8Array, src: JsonSource): unknown {
  const max = src.max ?? MAX_JSON_BYTES;
  if (bytes.byteLength > max) throw bad(src, `${bytes.byteLength} bytes, more than the ${max} a JSON document may have`);
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    // V8's message quotes the input: escape control characters, it may be hostile.
    throw bad(src, `not JSON: ${(e as Error).message.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`, e);
  }
}

/** parseDescriptor checks a descriptor at `at` (`manifests[0]`): mediaType a string, digest valid, size a byte count. */
export function parseDescriptor(v: unknown, src: JsonSource, at: string): Descriptor {
  const o = object(v, src, at, 'a descriptor');
  if (typeof o.mediaType !== 'string') throw bad(src, `${at}.mediaType: want a string`);
  parseDigest(o.digest, ctx(src, `${at}.digest`));
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) throw bad(src, `${at}.size: want a byte count, not ${JSON.stringify(o.size) ?? 'nothing'}`);
  if (o.annotations !== undefined) stringMap(o.annotations, src, `${at}.annotations`);
  if (o.platform !== undefined) {
    const p = object(o.platform, src, `${at}.platform`, 'a platform');
    if (typeof p.os !== 'string' || typeof p.architecture !== 'string') throw bad(src, `${at}.platform: want os and architecture strings`);
  }
  return o as unknown as Descriptor;
}

/** parseManifest checks an image manifest (OCI, or Docker schema 2): its config and layer descriptors. */
export function parseManifest(v: unknown, src: JsonSource): Manifest {
  const o = object(v, src, '', 'an image manifest');
  if (o.schemaVersion !== 2) throw bad(src, `schemaVersion ${JSON.stringify(o.schemaVersion) ?? 'missing'}: only schema 2 manifests are read`);
  if (o.mediaType !== undefined && typeof o.mediaType !== 'string') throw bad(src, 'mediaType: want a string');
  parseDescriptor(o.config, src, 'config');
  list(o.layers, src, 'layers').forEach((l, i) => parseDescriptor(l, src, `layers[${i}]`));
  return o as unknown as Manifest;
}

/** parseIndex checks an image index or manifest list (or a layout's index.json): its manifest descriptors. */
export function parseIndex(v: unknown, src: JsonSource): Index {
  const o = object(v, src, '', 'an image index');
  if (o.mediaType !== undefined && typeof o.mediaType !== 'string') throw bad(src, 'mediaType: want a string');
  list(o.manifests, src, 'manifests').forEach((m, i) => parseDescriptor(m, src, `manifests[${i}]`));
  return o as unknown as Index;
}

/** parseManifestOrIndex is parseIndex for a document with `manifests`, parseManifest otherwise. */
export function parseManifestOrIndex(v: unknown, src: JsonSource): Manifest | Index {
  return typeof v === 'object' && v !== null && 'manifests' in v ? parseIndex(v, src) : parseManifest(v, src);
}

/** parseImageConfig checks an image config: rootfs.diff_ids are valid digests (they name snapshot directories), config an object. */
export function parseImageConfig(v: unknown, src: JsonSource): ImageConfig {
  const o = object(v, src, '', 'an image config');
  const rootfs = object(o.rootfs, src, 'rootfs', 'an object');
  list(rootfs.diff_ids, src, 'rootfs.diff_ids').forEach((d, i) => parseDiffID(d, ctx(src, `rootfs.diff_ids[${i}]`)));
  if (o.config !== undefined && o.config !== null) object(o.config, src, 'config', 'an object');
  if (o.history !== undefined && !Array.isArray(o.history)) throw bad(src, 'history: want a list');
  return o as unknown as ImageConfig;
}

function object(v: unknown, src: JsonSource, at: string, want: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(src, `${at ? `${at}: ` : ''}want ${want === 'an object' ? 'a JSON object' : want}`);
  return v as Record<string, unknown>;
}

function list(v: unknown, src: JsonSource, at: string): unknown[] {
  if (!Array.isArray(v)) throw bad(src, `${at}: want a list`);
  return v;
}

function stringMap(v: unknown, src: JsonSource, at: string): void {
  const o = object(v, src, at, 'an object');
  for (const [k, x] of Object.entries(o)) if (typeof x !== 'string') throw bad(src, `${at}[${JSON.stringify(k)}]: want a string`);
}

function ctx(src: JsonSource, at: string): { what: string; hint?: string } {
  return { what: `${src.what}: ${at}`, ...(src.hint ? { hint: src.hint } : {}) };
}

function bad(src: JsonSource, msg: string, cause?: unknown): TsbuildError {
  return new TsbuildError(src.code, `${src.what}: ${msg}`, { ...(src.hint ? { hint: src.hint } : {}), ...(cause !== undefined ? { cause } : {}) });
}
