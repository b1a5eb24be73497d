import { createHash, type Hash } from 'node:crypto';
import { TsbuildError } from './errors.ts';

/** Digest names content by its sha256: `sha256:<64 lower-case hex>`. Built only through parseDigest or a hasher. */
export type Digest = string & { readonly __brand: 'Digest' };

/** DiffID is the digest of an *uncompressed* layer tar; a separate brand so it is never mixed up with a blob Digest. */
export type DiffID = string & { readonly __brand: 'DiffID' };

/** ChainID identifies a stack of layers (OCI image-spec: chainID(L0..n) = sha256(chainID(L0..n-1) + " " + diffID(n))). */
export type ChainID = string & { readonly __brand: 'ChainID' };

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/**
 * HEX_LENGTH lists the algorithms the OCI image-spec registers, with the length of
 * their lower-case hex encoding. tsbuild stores and verifies sha256 content only: a
 * well-formed sha512 digest is recognised, and refused as unsupported.
 */
const HEX_LENGTH: ReadonlyMap<string, number> = new Map([['sha256', 64], ['sha512', 128]]);

/** How much of a rejected value a message shows (quoted, escaped: it may come from a hostile file). */
const SHOWN = 72;

/** DigestContext names what is being parsed (`index.json manifests[0].digest`) and how to fix it, for the error. */
export interface DigestContext {
  what?: string;
  hint?: string;
}

/** isDigest tells whether s is a well-formed sha256 digest. */
export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/**
 * parseDigest is the one parser of digests that come from outside (archives, registries,
 * caches, records on disk): `sha256:` and 64 lower-case hex digits, branded. Anything
 * else throws TsbuildError('BAD_DIGEST') saying what is wrong: not a string, no
 * algorithm, an unknown algorithm, the wrong hex alphabet or length, or sha512 (known,
 * not supported). The value is shown quoted and escaped, cut when long.
 */
export function parseDigest(s: unknown, ctx: DigestContext = {}): Digest {
  if (typeof s === 'string' && DIGEST_RE.test(s)) return s as Digest;
  throw new TsbuildError('BAD_DIGEST', `${ctx.what ? `${ctx.what}: ` : ''}${digestProblem(s)}`, ctx.hint ? { hint: ctx.hint } : {});
}

/** parseDiffID is parseDigest for layer DiffIDs. */
export function parseDiffID(s: unknown, ctx: DigestContext = {}): DiffID {
  return parseDigest(s, ctx) as string as DiffID;
}

function digestProblem(s: unknown): string {
  if (typeof s !== 'string') return `invalid digest: ${s === undefined ? 'missing' : s === null ? 'null' : typeof s === 'object' ? 'an object' : `a ${typeof s}`}, not a string`;
  const q = quote(s);
  const colon = s.indexOf(':');
  if (colon < 0) return `invalid digest ${q}: want ALGORITHM:HEX, e.g. sha256:<64 hex digits>`;
  const alg = s.slice(0, colon);
  const len = HEX_LENGTH.get(alg);
  if (len === undefined) return `unknown digest algorithm ${quote(alg)} in ${q} (tsbuild reads sha256)`;
  if (!new RegExp(`^[0-9a-f]{${len}}$`).test(s.slice(colon + 1))) return `invalid digest ${q}: want ${len} lower-case hex digits after "${alg}:"`;
  return `unsupported digest ${q}: tsbuild stores sha256 content only`;
}

/** quote shows an untrusted string in a message: JSON-escaped (no control characters reach a terminal), cut when long. */
function quote(s: string): string {
  return JSON.stringify(s.length > SHOWN + 8 ? s.slice(0, SHOWN) : s).replace(/"$/, s.length > SHOWN + 8 ? '…"' : '"');
}

/**
 * hexOf returns the 64 hex digits of a digest-like value: the one way from a digest
 * to a file name (blobs/sha256/<hex>, snapshots/<16 hex>, cache/keys/<hex>, ...).
 * It checks the value again and throws BAD_DIGEST for anything not well-formed, so a
 * string that was only cast to the brand can never name a path outside its directory.
 */
export function hexOf(d: Digest | DiffID | ChainID): string {
  return parseDigest(d).slice('sha256:'.length);
}

/** sha256Of hashes bytes or a string (UTF-8) in one go. For streams use newHasher. */
export function sha256Of(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** digestFromHash finishes a node Hash into a Digest. */
export function digestFromHash(h: Hash): Digest {
  return `sha256:${h.digest('hex')}` as Digest;
}

/** chainIDs computes the ChainID of each prefix of a layer stack, base layer first. */
export function chainIDs(diffIDs: readonly DiffID[]): ChainID[] {
  const out: ChainID[] = [];
  let prev: string | undefined;
  for (const d of diffIDs) {
    prev = prev === undefined ? d : sha256Of(`${prev} ${d}`);
    out.push(prev as ChainID);
  }
  return out;
}
