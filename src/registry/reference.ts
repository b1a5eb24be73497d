import { TsbuildError } from '../core/errors.ts';
import { parseDigest, type Digest } from '../core/digest.ts';

/** DOCKER_HUB is the registry name an unqualified reference (`busybox`) belongs to. */
export const DOCKER_HUB = 'docker.io';

/**
 * RegistryRef is a parsed `host[:port]/repo[:tag][@digest]`. Exactly the form the
 * distribution API needs: registry host, repository path, and tag and/or digest.
 */
export interface RegistryRef {
  /** Registry host with optional port, e.g. `docker.io`, `127.0.0.1:5000`, `ghcr.io`. */
  registry: string;
  /** Repository path, e.g. `library/busybox`, `team/app`. */
  repository: string;
  /** Tag, if given (or the default tag when neither tag nor digest was given). */
  tag?: string;
  /** Digest, if given; it wins over the tag when both are present. */
  digest?: Digest;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]{1,5})?$/;

function bad(s: string, why: string, hint?: string): TsbuildError {
  return new TsbuildError('BAD_REFERENCE', `invalid reference "${s}": ${why}`, hint ? { hint } : {});
}

/**
 * parseRegistryRef parses an image reference once, at the boundary. A first path
 * component with a dot, a port or equal to `localhost` is a registry host;
 * otherwise the registry is docker.io and single-component names get `library/`.
 * Without tag or digest the tag is `defaultTag` (default `latest`).
 * Throws TsbuildError('BAD_REFERENCE') naming the reference and the rule broken.
 */
export function parseRegistryRef(s: string, opts: { defaultTag?: string } = {}): RegistryRef {
  if (/^[a-z]+:\/\//i.test(s)) throw bad(s, 'must not contain a URL scheme', 'write host/repo:tag; plain HTTP is used for localhost, 127.0.0.1 and --insecure-registry hosts');
  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    try {
      digest = parseDigest(d);
    } catch (e) {
      throw bad(s, (e as Error).message);
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(s, `bad tag "${tag}" (letters, digits, _ . -; at most 128; not starting with . or -)`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!HOST.test(first)) throw bad(s, `bad registry host "${first}"`);
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const p of parts) {
    if (p === '') throw bad(s, 'empty path component');
    if (!COMPONENT.test(p)) {
      if (p.toLowerCase() !== p) throw bad(s, 'repository name must be lowercase');
      throw bad(s, `bad path component "${p}" (lowercase letters, digits and separators . _ __ -)`);
    }
  }
  const repository = parts.join('/');
  if (registry.length + 1 + repository.length > 255) throw bad(s, 'name longer than 255 characters');
  const out: RegistryRef = { registry, repository };
  if (tag !== undefined) out.tag = tag;
  else if (digest === undefined) out.tag = opts.defaultTag ?? 'latest';
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** refString formats a RegistryRef fully qualified: `registry/repo[:tag][@digest]`. */
export function refString(r: RegistryRef): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** repoString formats registry and repository only: `registry/repo`. */
export function repoString(r: Pick<RegistryRef, 'registry' | 'repository'>): string {
  return `${r.registry}/${r.repository}`;
}

/** manifestRef is what goes after /manifests/ in a URL: the digest when known, else the tag. */
export function manifestRef(r: RegistryRef): string {
  const v = r.digest ?? r.tag;
  if (v === undefined) throw new TsbuildError('BAD_REFERENCE', `reference ${refString(r)} has neither tag nor digest`);
  return v;
}

/** withDigest returns r pinned to digest d (tag kept for display). */
export function withDigest(r: RegistryRef, d: Digest): RegistryRef {
  return { ...r, digest: d };
}

/** apiHost maps a registry name to the host its API is served on (docker.io → registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/**
 * isInsecureHost tells whether the registry is spoken to over plain HTTP:
 * localhost and 127.0.0.1 (any port) always, other hosts only when listed in
 * `insecure` (with or without port).
 */
export function isInsecureHost(registry: string, insecure: readonly string[] = []): boolean {
  const host = registry.replace(/:[0-9]+$/, '');
  if (host === 'localhost' || host === '127.0.0.1') return true;
  return insecure.includes(registry) || insecure.includes(host);
}
