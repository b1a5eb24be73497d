import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { parseChallenge } from '../../../src/registry/auth.ts';
import { loadDockerConfig, normalizeAuthKey, removeDockerConfigAuth, storeDockerConfigAuth } from '../../../src/registry/credentials.ts';

describe('parseChallenge', () => {
  test('bearer with quoted, comma-holding scope', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
  });
  test('basic, case-insensitive scheme', () => {
    expect(parseChallenge('basic realm="basic-realm"')).toEqual({ scheme: 'basic', params: { realm: 'basic-realm' } });
  });
  test('bearer with error and spaces', () => {
    const c = parseChallenge('Bearer realm="r", service="s", error="insufficient_scope"');
    expect(c.params).toEqual({ realm: 'r', service: 's', error: 'insufficient_scope' });
  });
  test('missing or unknown scheme', () => {
    expect(parseChallenge(undefined).scheme).toBe('none');
    expect(parseChallenge('Negotiate abc').scheme).toBe('none');
  });
});

describe('docker config.json', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('reads auth, username/password and identitytoken; first file wins', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-cfg-'));
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:p:w').toString('base64') }, 'r.example': { identitytoken: 'tok' } } }));
    writeFileSync(b, JSON.stringify({ auths: { 'docker.io': { auth: Buffer.from('other:x').toString('base64') }, 'http://127.0.0.1:5000': { username: 'u', password: 'p' } } }));
    const creds = await loadDockerConfig([a, b, join(dir, 'missing.json')]);
    expect(creds.get('docker.io')).toEqual({ username: 'hub', password: 'p:w' });
    expect(creds.get('r.example')).toEqual({ identityToken: 'tok' });
    expect(creds.get('127.0.0.1:5000')).toEqual({ username: 'u', password: 'p' });
    expect(creds.get('nowhere.example')).toBeUndefined();
  });

  test('a malformed auth names the entry, not the value', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-cfg-'));
    const a = join(dir, 'a.json');
    writeFileSync(a, JSON.stringify({ auths: { h: { auth: Buffer.from('nocolon-secret').toString('base64') } } }));
    const err = await loadDockerConfig([a]).catch((e: Error) => e);
    expect(String(err)).toMatch(/auths\["h"\]\.auth/);
    expect(String(err)).not.toContain('nocolon-secret');
  });

  test('store and remove keep other keys and mode 0600', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-cfg-'));
    const p = join(dir, 'sub', 'config.json');
    await storeDockerConfigAuth(p, '127.0.0.1:5000', 'u', 'secret');
    const text = readFileSync(p, 'utf8');
    expect(JSON.parse(text).auths['127.0.0.1:5000'].auth).toBe(Buffer.from('u:secret').toString('base64'));
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect((await loadDockerConfig([p])).get('127.0.0.1:5000')).toEqual({ username: 'u', password: 'secret' });
    expect(await removeDockerConfigAuth(p, '127.0.0.1:5000')).toBe(true);
    expect(await removeDockerConfigAuth(p, '127.0.0.1:5000')).toBe(false);
  });

  test.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['http://127.0.0.1:5000', '127.0.0.1:5000'],
    ['ghcr.io', 'ghcr.io'],
  ])('normalizeAuthKey(%s) = %s', (k, want) => {
    expect(normalizeAuthKey(k)).toBe(want);
  });
});
