import { createHash, type Hash } from 'node:crypto';
import { TsbuildError } from './errors.ts';

/** Digest names content by its sha256: `sha256:<64 lower-case hex>`. Built only through parseDigest or a hasher. */
export type Digest = string & { readonly __brand: 'Digest' };

/** DiffID is the digest of an *uncompressed* layer tar; a separate brand so it is never mixed up with a blob Digest. */
export type DiffID = string & { readonly __brand: 'DiffID' };

/** ChainID identifies a stack of layers (OCI image-spec: chainID(L0..n) = sha256(chainID(L0..n-1) + " " + diffID(n))). */
export type ChainID = string & { readonly __brand: 'ChainID' };

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** isDigest tells whether s is a well-formed sha256 digest. */
export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/** parseDigest checks s and brands it; throws TsbuildError('BAD_DIGEST') naming s otherwise. */
export function parseDigest(s: string): Digest {
  if (!DIGEST_RE.test(s)) throw new TsbuildError('BAD_DIGEST', `invalid digest "${s}": want sha256:<64 hex digits>`);
  return s as Digest;
}

/** parseDiffID is parseDigest for layer DiffIDs. */
export function parseDiffID(s: string): DiffID {
  return parseDigest(s) as string as DiffID;
}

/** hexOf returns the 64 hex digits of a digest-like value. */
export function hexOf(d: Digest | DiffID | ChainID): string {
  return d.slice('sha256:'.length);
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
