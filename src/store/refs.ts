import { TsbuildError } from '../core/errors.ts';

/** ParsedRef is an image reference split into its parts (Docker's reference grammar). */
export interface ParsedRef {
  /** Registry host[:port], when the reference names one (e.g. `localhost:5000`, `ghcr.io`). */
  domain?: string;
  /** Repository path without the domain, e.g. `library/busybox`, `x/y`. */
  path: string;
  tag?: string;
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_NAME = 255;

function bad(ref: string, why: string): TsbuildError {
  return new TsbuildError('BAD_REFERENCE', `invalid reference "${ref}": ${why}`, {
    hint: 'references look like name[:tag] or name@sha256:<64 hex>, e.g. app:1, localhost:5000/team/app:v2',
  });
}

/**
 * parseRef checks ref against Docker's reference grammar: an optional registry
 * host[:port], lower-case path components separated by `/`, an optional tag
 * ([\w][\w.-]{0,127}) and an optional `@sha256:<hex>` digest. Throws BAD_REFERENCE
 * saying what is wrong. No defaults are filled in (see normalizeTag).
 */
export function parseRef(ref: string): ParsedRef {
  if (ref === '') throw bad(ref, 'empty reference');
  if (/\s/.test(ref)) throw bad(ref, 'contains white space');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) throw bad(ref, 'must not contain a URL scheme');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, `digest "${digest}" is not sha256:<64 lower-case hex>`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  if (rest === '') throw bad(ref, 'repository name is empty');
  if (rest.length > MAX_NAME) throw bad(ref, `repository name longer than ${MAX_NAME} characters`);
  const parts = rest.split('/');
  let domain: string | undefined;
  if (parts.length > 1 && looksLikeDomain(parts[0]!)) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) throw bad(ref, `registry "${domain}" is not host[:port]`);
  }
  for (const p of parts) {
    if (p !== p.toLowerCase()) throw bad(ref, 'repository name must be lowercase');
    if (!PATH_COMPONENT.test(p)) {
      throw bad(ref, p === '' ? 'empty path component' : `path component "${p}" may hold only [a-z0-9] joined by ".", "_", "__" or "-"`);
    }
  }
  const out: ParsedRef = { path: parts.join('/') };
  if (domain !== undefined) out.domain = domain;
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

function looksLikeDomain(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
}

/**
 * normalizeTag validates a reference and returns the form stored in index.json:
 * Docker's familiar name (`docker.io/library/x` → `x`, `docker.io/a/b` → `a/b`)
 * with `:latest` added when neither a tag nor a digest is given. A digest is
 * kept as `name[:tag]@sha256:…`. Examples: `app` → `app:latest`, `app:1` → `app:1`,
 * `localhost:5000/x/y:2` unchanged. Throws TsbuildError('BAD_REFERENCE').
 */
export function normalizeTag(ref: string): string {
  const r = parseRef(ref);
  let name = r.path;
  if (r.domain !== undefined && r.domain !== 'docker.io' && r.domain !== 'index.docker.io') name = `${r.domain}/${name}`;
  else if (r.domain !== undefined && name.startsWith('library/') && name.split('/').length === 2) name = name.slice('library/'.length);
  if (r.tag !== undefined) name += `:${r.tag}`;
  else if (r.digest === undefined) name += ':latest';
  if (r.digest !== undefined) name += `@${r.digest}`;
  return name;
}
