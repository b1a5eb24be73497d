import { Readable } from 'node:stream';
import { expect, test } from 'vitest';
import { RegistryError, errorFromBody, isTemporary, networkError } from '../../../src/registry/errors.ts';
import { redactHeaders, redactUrl } from '../../../src/registry/redact.ts';
import { withRetry } from '../../../src/registry/retry.ts';
import { chunksOf } from '../../../src/registry/upload.ts';

test('redactUrl drops userinfo and secret query values, keeps digest', () => {
  const u = 'https://user:pa55@r.example/v2/x/blobs/uploads/abc?_state=SECRET&digest=sha256:00&X-Amz-Signature=sig';
  const r = redactUrl(u);
  expect(r).not.toMatch(/pa55|user|SECRET|sig\b/);
  expect(r).toContain('digest=sha256%3A00');
  expect(r).toContain('_state=REDACTED');
});

test('redactHeaders hides Authorization values', () => {
  expect(redactHeaders({ Authorization: 'Bearer abc.def', Accept: 'x' })).toEqual({ Authorization: 'Bearer REDACTED', Accept: 'x' });
});

test('errorFromBody takes the distribution code and message', () => {
  const e = errorFromBody('GET', new URL('http://h/v2/x/manifests/1'), 404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  expect(e).toBeInstanceOf(RegistryError);
  expect(e.registryCode).toBe('MANIFEST_UNKNOWN');
  expect(e.code).toBe('IMAGE_NOT_FOUND');
  expect(e.message).toBe('GET http://h/v2/x/manifests/1: MANIFEST_UNKNOWN: manifest unknown');
  expect(e.temporary).toBe(false);
});

test.each([
  [401, 'UNAUTHORIZED', false],
  [403, 'DENIED', false],
  [429, 'TOOMANYREQUESTS', true],
  [503, 'UNKNOWN', true],
  [500, 'UNKNOWN', true],
  [400, 'UNKNOWN', false],
])('status %i without body → %s, temporary %s', (status, code, temp) => {
  const e = errorFromBody('PUT', new URL('http://h/v2/x'), status, '');
  expect(e.registryCode).toBe(code);
  expect(e.temporary).toBe(temp);
});

test('HEAD 404 names the unknown thing', () => {
  expect(errorFromBody('HEAD', new URL('http://h/v2/x/blobs/sha256:1'), 404, '').registryCode).toBe('BLOB_UNKNOWN');
  expect(errorFromBody('HEAD', new URL('http://h/v2/x/manifests/1'), 404, '').registryCode).toBe('MANIFEST_UNKNOWN');
});

test('network resets are temporary, refusals are not', () => {
  const u = new URL('http://h/v2/');
  expect(networkError('GET', u, Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })).temporary).toBe(true);
  expect(networkError('GET', u, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).temporary).toBe(false);
});

test('withRetry retries only temporary errors, with back-off', async () => {
  let n = 0;
  const temp = () => new RegistryError({ registryCode: 'UNAVAILABLE', status: 503, method: 'GET', url: 'http://h/' });
  expect(await withRetry(async () => { if (++n < 3) throw temp(); return 'ok'; }, { baseMs: 1 })).toBe('ok');
  expect(n).toBe(3);
  n = 0;
  const perm = new RegistryError({ registryCode: 'DENIED', status: 403, method: 'GET', url: 'http://h/' });
  await expect(withRetry(async () => { n++; throw perm; }, { baseMs: 1 })).rejects.toBe(perm);
  expect(n).toBe(1);
  n = 0;
  await expect(withRetry(async () => { n++; throw temp(); }, { retries: 2, baseMs: 1 })).rejects.toSatisfy(isTemporary);
  expect(n).toBe(3);
});

test('chunksOf regroups bytes into fixed-size chunks', async () => {
  const src = Readable.from([Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('i')]);
  const out: string[] = [];
  for await (const c of chunksOf(src, 4)) out.push(c.toString());
  expect(out).toEqual(['abcd', 'efgh', 'i']);
});
