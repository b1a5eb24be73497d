import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import type { DiffID } from '../../src/core/digest.ts';
import { MediaType } from '../../src/oci/mediaTypes.ts';
import type { Descriptor, ImageConfig } from '../../src/oci/types.ts';
import { writeImage } from '../../src/store/images.ts';
import type { ContentStore } from '../../src/store/types.ts';

/** REGISTRY_BIN is Debian's distribution registry (package docker-registry). */
export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** RunningRegistry is a docker-registry process on a loopback address with its own temp storage. */
export interface RunningRegistry {
  /** `ADDRESS:PORT` (127.0.0.1 unless asked otherwise), usable as the registry part of a reference. */
  host: string;
  port: number;
  dir: string;
  /** Everything the registry wrote to stderr/stdout (its log). */
  log(): string;
  stop(): Promise<void>;
}

/** RegistryAuth selects the registry's auth: none, htpasswd (bcrypt) users, or a token server's realm. */
export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; server: TokenServer };

/** freePort asks the kernel for a free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function authYaml(auth: RegistryAuth, dir: string): string {
  switch (auth.kind) {
    case 'none':
      return '';
    case 'htpasswd': {
      const lines = Object.entries(auth.users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim());
      const file = join(dir, 'htpasswd');
      writeFileSync(file, lines.join('\n') + '\n');
      return `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${file}\n`;
    }
    case 'token':
      return `auth:\n  token:\n    realm: ${auth.server.realm}\n    service: ${auth.server.service}\n    issuer: ${auth.server.issuer}\n    rootcertbundle: ${auth.server.certPath}\n`;
  }
}

/**
 * startRegistry runs docker-registry on a random free port of 127.0.0.1 (or of
 * opts.address, another loopback address such as 127.0.0.2, which tsbuild does not
 * treat as local) with storage in a fresh temp dir and a config YAML written here;
 * resolves once /v2/ answers. stop() kills it and removes the dir.
 */
export async function startRegistry(auth: RegistryAuth = { kind: 'none' }, opts: { address?: string; tls?: { certificate: string; key: string } } = {}): Promise<RunningRegistry> {
  const address = opts.address ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: ${address}:${port}
  secret: ${randomBytes(16).toString('hex')}
${opts.tls ? `  tls:\n    certificate: ${opts.tls.certificate}\n    key: ${opts.tls.key}\n` : ''}${authYaml(auth, dir)}`);
  let out = '';
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${opts.tls ? 'https' : 'http'}://${address}:${port}/v2/`, () => child.exitCode !== null);
  } catch (e) {
    await stop();
    throw new Error(`docker-registry did not start: ${(e as Error).message}\n${out}`);
  }
  return { host: `${address}:${port}`, port, dir, log: () => out, stop };
}

async function waitFor(url: string, dead: () => boolean): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (dead()) throw new Error('process exited');
    const ok = await new Promise<boolean>((resolve) => {
      const get = url.startsWith('https:') ? (u: string, cb: (res: http.IncomingMessage) => void) => https.get(u, { rejectUnauthorized: false }, cb) : http.get;
      get(url, (res) => { res.resume(); resolve(true); }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timeout waiting for ${url}`);
}

/** TokenServer is a tiny token service (distribution token auth): 401 challenge on the registry, signed JWTs here. */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Scopes asked for by each token request, in order (for cache assertions). */
  requests: { user: string | undefined; scopes: string[] }[];
  stop(): Promise<void>;
}

/**
 * startTokenServer listens on 127.0.0.1 and issues RS256 JWTs for the requested
 * repository scopes. With users set, requests must carry matching basic auth
 * (wrong password: 401); without a user the token grants nothing.
 */
export async function startTokenServer(users: Record<string, string>): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-token-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=tsbuild-test-token'], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyPath));
  const kid = libtrustKeyID(createPublicKey(key));
  const service = 'tsbuild-test-registry';
  const issuer = 'tsbuild-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const user = basicUser(req.headers.authorization, users);
    requests.push({ user: user === null ? undefined : user, scopes });
    if (user === null) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }));
      return;
    }
    const access = user === undefined ? [] : scopes.map(parseScope).filter((a) => a !== undefined);
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token: jwt(key, kid, claims), expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** basicUser: undefined = no credentials sent, null = wrong credentials, else the user name. */
function basicUser(h: string | undefined, users: Record<string, string>): string | undefined | null {
  if (!h?.startsWith('Basic ')) return undefined;
  const plain = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = plain.indexOf(':');
  const u = plain.slice(0, i);
  return users[u] !== undefined && users[u] === plain.slice(i + 1) ? u : null;
}

function parseScope(s: string): { type: string; name: string; actions: string[] } | undefined {
  const m = /^([a-z]+):(.+):([a-z*,]+)$/.exec(s);
  return m ? { type: m[1]!, name: m[2]!, actions: m[3]!.split(',') } : undefined;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

function jwt(key: KeyObject, kid: string, claims: object): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(claims));
  const sig = sign('RSA-SHA256', Buffer.from(`${head}.${body}`), key);
  return `${head}.${body}.${b64url(sig)}`;
}

/** libtrustKeyID is the key id distribution's token verifier expects: base32 of sha256(SPKI DER)[:30], in groups of 4. */
function libtrustKeyID(pub: KeyObject): string {
  const der = pub.export({ type: 'spki', format: 'der' });
  const b = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let s = '';
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      s += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return s.match(/.{4}/g)!.join(':');
}

/** CountingProxy forwards to a registry and records every request (method and path), for "nothing uploaded" assertions. */
export interface CountingProxy {
  host: string;
  requests: { method: string; path: string }[];
  stop(): Promise<void>;
}

/**
 * startCountingProxy forwards 127.0.0.1:<new port> to target (keeping Host, so the
 * registry's Locations point back here). inject may answer a request itself with a
 * status (fault injection: 503, 429), drop the connection ('reset'), or forward it and
 * cut the answer midway ('cut'); n counts requests from 0.
 */
export async function startCountingProxy(
  targetPort: number,
  inject?: (req: { method: string; path: string }, n: number) => number | 'reset' | 'cut' | undefined,
): Promise<CountingProxy> {
  const requests: CountingProxy['requests'] = [];
  const server = http.createServer((req, res) => {
    const r = { method: req.method ?? '', path: req.url ?? '' };
    requests.push(r);
    const status = inject?.(r, requests.length - 1);
    if (status === 'reset') {
      req.socket.destroy();
      return;
    }
    if (status === 'cut') {
      // Forward, but cut the connection after the first chunk of the answer.
      const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.once('data', (c: Buffer) => { res.write(c.subarray(0, Math.max(1, c.length >> 1))); setImmediate(() => req.socket.destroy()); ur.destroy(); });
      });
      req.pipe(up);
      return;
    }
    if (status !== undefined) {
      req.resume();
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'injected' }] }));
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** TestImage is an image written into a store by makeTestImage (layers uncompressed, as the store keeps them). */
export interface TestImage {
  manifestDesc: Descriptor;
  layers: Descriptor[];
  config: ImageConfig;
}

/**
 * makeTestImage writes an image of one layer per entry of `layers` (each a map of
 * file path → content) into the store, with writeImage, for linux/architecture.
 * Layers are plain tars (mediaType ...layer.v1.tar), so their digest is their DiffID.
 */
export async function makeTestImage(store: ContentStore, layers: Record<string, string | Buffer>[], cmd: string[] = ['/bin/sh'], architecture = 'amd64'): Promise<TestImage> {
  const descs: Descriptor[] = [];
  for (const files of layers) {
    const dir = mkdtempSync(join(tmpdir(), 'tsbuild-layer-'));
    try {
      const names: string[] = [];
      for (const [name, data] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), data);
        names.push(name);
      }
      const w = await store.writer();
      await pipeline(tar.create({ cwd: dir, portable: true, mtime: new Date(0) }, names.sort()), w.stream);
      const { digest, size } = await w.commit();
      descs.push({ mediaType: MediaType.OciLayer, digest, size });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const config: ImageConfig = {
    architecture,
    os: 'linux',
    config: { Cmd: cmd, Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: descs.map((d) => d.digest as string as DiffID) },
    history: descs.map((_, i) => ({ created_by: `layer ${i}` })),
  };
  const manifestDesc = await writeImage(store, { config, layers: descs });
  return { manifestDesc, layers: descs, config };
}

/** randomText makes n bytes of incompressible-ish printable text (so gzip cannot make a blob tiny). */
export function randomText(n: number): string {
  return randomBytes(Math.ceil(n * 0.75)).toString('base64').slice(0, n);
}
