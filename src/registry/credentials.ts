import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TsbuildError, isErrno } from '../core/errors.ts';
import { DOCKER_HUB } from './reference.ts';

/** Credential is what a user gave for one registry: a password, or an identity (refresh) token. */
export type Credential = { username: string; password: string } | { identityToken: string };

/** CredentialStore finds the credential for a registry host (as in a reference: `docker.io`, `127.0.0.1:5000`). */
export interface CredentialStore {
  get(registry: string): Credential | undefined;
}

/** anonymous has no credentials. */
export const anonymous: CredentialStore = { get: () => undefined };

interface DockerConfigAuth {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** normalizeAuthKey maps a config.json `auths` key (`https://index.docker.io/v1/`, `http://h:5000`, `h:5000`) to a registry name. */
export function normalizeAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

function toCredential(a: DockerConfigAuth, file: string, key: string): Credential | undefined {
  if (a.identitytoken) return { identityToken: a.identitytoken };
  if (a.auth) {
    const plain = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    // Name the file and entry, never the value.
    if (i < 0) throw new TsbuildError('USAGE', `${file}: auths["${key}"].auth is not base64(user:password)`);
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (a.username !== undefined && a.password !== undefined) return { username: a.username, password: a.password };
  return undefined;
}

/**
 * loadDockerConfig reads Docker-style config.json files (`{auths: {host: {auth: base64(user:pass)}}}`)
 * in order; the first file that has an entry for a host wins. Missing files are skipped.
 * Credential helpers (credsStore/credHelpers) are not run.
 */
export async function loadDockerConfig(paths: readonly string[]): Promise<CredentialStore> {
  const map = new Map<string, Credential>();
  for (const file of paths) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) continue;
      throw e;
    }
    let cfg: { auths?: Record<string, DockerConfigAuth> };
    try {
      cfg = JSON.parse(text) as typeof cfg;
    } catch (e) {
      throw new TsbuildError('USAGE', `${file}: not valid JSON`, { cause: e });
    }
    for (const [key, a] of Object.entries(cfg.auths ?? {})) {
      const host = normalizeAuthKey(key);
      if (map.has(host)) continue;
      const c = toCredential(a, file, key);
      if (c) map.set(host, c);
    }
  }
  return { get: (registry) => map.get(registry) };
}

/**
 * storeDockerConfigAuth records user:password for registry in the config.json at path
 * (created 0600, other keys kept), written atomically. Used by `login`.
 */
export async function storeDockerConfigAuth(path: string, registry: string, username: string, password: string): Promise<void> {
  let cfg: Record<string, unknown> = {};
  try {
    cfg = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
  const auths = (cfg.auths as Record<string, DockerConfigAuth> | undefined) ?? {};
  auths[registry] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  cfg.auths = auths;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

/** removeDockerConfigAuth deletes the entry for registry (logout); returns whether one existed. */
export async function removeDockerConfigAuth(path: string, registry: string): Promise<boolean> {
  let cfg: { auths?: Record<string, unknown> };
  try {
    cfg = JSON.parse(await readFile(path, 'utf8')) as typeof cfg;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
  const keys = Object.keys(cfg.auths ?? {}).filter((k) => normalizeAuthKey(k) === registry);
  for (const k of keys) delete cfg.auths![k];
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
  await rename(tmp, path);
  return keys.length > 0;
}
