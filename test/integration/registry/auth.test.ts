import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.ts';
import { loadDockerConfig, type CredentialStore } from '../../../src/registry/credentials.ts';
import { RegistryError } from '../../../src/registry/errors.ts';
import { pullImage } from '../../../src/registry/pull.ts';
import { pushImage } from '../../../src/registry/push.ts';
import { parseRegistryRef } from '../../../src/registry/reference.ts';
import { openStore } from '../../../src/store/openStore.ts';
import type { LocalStore } from '../../../src/store/types.ts';
import { makeTestImage, startRegistry, startTokenServer, type RunningRegistry, type TestImage, type TokenServer } from '../../helpers/registry.ts';

const PASSWORD = 's3cret-Pa55';
const WRONG = 'wr0ng-Pa55';

let tmp: string;
let store: LocalStore;
let img: TestImage;
const clients: RegistryClient[] = [];

async function credsFor(host: string, user: string, pass: string): Promise<CredentialStore> {
  const file = join(tmp, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } }));
  return loadDockerConfig([file]);
}

function client(credentials?: CredentialStore): RegistryClient {
  const c = new RegistryClient({ retryBaseMs: 10, ...(credentials ? { credentials } : {}) });
  clients.push(c);
  return c;
}

/** expectCleanAuthError: one line, UNAUTHORIZED, a hint, and no trace of the secret. */
function expectCleanAuthError(err: unknown, secrets: string[]): void {
  expect(err).toBeInstanceOf(RegistryError);
  const e = err as RegistryError;
  expect(e.code).toBe('REGISTRY_UNAUTHORIZED');
  expect(e.registryCode).toBe('UNAUTHORIZED');
  expect(e.message).not.toContain('\n');
  expect(e.hint).toMatch(/tsbuild login/);
  const all = `${e.message} ${e.hint} ${e.url} ${JSON.stringify(e)}`;
  for (const s of secrets) expect(all).not.toContain(s);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tsbuild-auth-'));
  store = await openStore(join(tmp, 'store'));
  img = await makeTestImage(store.content, [{ 'a.txt': 'auth test\n' }]);
});
afterAll(() => {
  for (const c of clients) c.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('basic auth (htpasswd, bcrypt)', () => {
  let reg: RunningRegistry;
  beforeAll(async () => { reg = await startRegistry({ kind: 'htpasswd', users: { alice: PASSWORD } }); });
  afterAll(async () => { await reg?.stop(); });

  test('push and pull with credentials from config.json', async () => {
    const ref = parseRegistryRef(`${reg.host}/secure/app:1`);
    const creds = await credsFor(reg.host, 'alice', PASSWORD);
    const pushed = await pushImage(client(creds), store.content, img.manifestDesc, ref);
    const dst = await openStore(join(tmp, 'basic-dst'));
    const pulled = await pullImage(client(creds), dst.content, ref);
    expect(pulled.manifestDesc.digest).toBe(pushed.manifestDesc.digest);
  });

  test('a wrong password is one clear error without the credential', async () => {
    const creds = await credsFor(reg.host, 'alice', WRONG);
    const err = await client(creds).resolve(parseRegistryRef(`${reg.host}/secure/app:1`)).catch((e: unknown) => e);
    expectCleanAuthError(err, [WRONG, Buffer.from(`alice:${WRONG}`).toString('base64')]);
    expect((err as Error).message).toMatch(new RegExp(`^HEAD http://${reg.host}/v2/secure/app/manifests/1: UNAUTHORIZED`));
  });

  test('no credentials: UNAUTHORIZED with a login hint', async () => {
    const err = await client().resolve(parseRegistryRef(`${reg.host}/secure/app:1`)).catch((e: unknown) => e);
    expectCleanAuthError(err, []);
    expect((err as RegistryError).hint).toBe(`log in first: tsbuild login ${reg.host}`);
  });
});

describe('bearer token flow', () => {
  let tokens: TokenServer;
  let reg: RunningRegistry;
  beforeAll(async () => {
    tokens = await startTokenServer({ bob: PASSWORD });
    reg = await startRegistry({ kind: 'token', server: tokens });
  });
  afterAll(async () => {
    await reg?.stop();
    await tokens?.stop();
  });

  test('push and pull with tokens, one token request per scope set', async () => {
    const ref = parseRegistryRef(`${reg.host}/tok/app:1`);
    const creds = await credsFor(reg.host, 'bob', PASSWORD);
    const c = client(creds);
    const pushed = await pushImage(c, store.content, img.manifestDesc, ref);
    expect(c.authenticator(reg.host).tokenRequests).toBeGreaterThan(0);
    const before = tokens.requests.length;
    // Same client, same scopes: the cached token is reused.
    await pushImage(c, store.content, img.manifestDesc, ref);
    expect(await c.resolve(ref)).toMatchObject({ digest: pushed.manifestDesc.digest });
    const newScopes = tokens.requests.slice(before).map((r) => r.scopes.join(' '));
    expect(newScopes).toEqual([]);
    expect(tokens.requests.every((r) => r.user === 'bob')).toBe(true);
    const scopes = new Set(tokens.requests.map((r) => r.scopes.sort().join(' ')));
    expect(scopes).toContain('repository:tok/app:pull');
    expect(scopes).toContain('repository:tok/app:pull,push');

    const dst = await openStore(join(tmp, 'token-dst'));
    expect((await pullImage(client(creds), dst.content, ref)).manifestDesc.digest).toBe(pushed.manifestDesc.digest);
  });

  test('a wrong password fails at the token server, cleanly', async () => {
    const creds = await credsFor(reg.host, 'bob', WRONG);
    const err = await client(creds).resolve(parseRegistryRef(`${reg.host}/tok/app:1`)).catch((e: unknown) => e);
    expectCleanAuthError(err, [WRONG, Buffer.from(`bob:${WRONG}`).toString('base64')]);
    expect((err as Error).message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/token\?service=.*: UNAUTHORIZED: invalid username or password$/);
  });

  test('checkLogin (what `tsbuild login` runs) passes or fails on the password', async () => {
    await client(await credsFor(reg.host, 'bob', PASSWORD)).checkLogin(reg.host);
    const err = await client(await credsFor(reg.host, 'bob', WRONG)).checkLogin(reg.host).catch((e: unknown) => e);
    expectCleanAuthError(err, [WRONG]);
  });

  test('anonymous tokens grant nothing: UNAUTHORIZED', async () => {
    const err = await client().resolve(parseRegistryRef(`${reg.host}/tok/app:1`)).catch((e: unknown) => e);
    expectCleanAuthError(err, []);
  });
});
