import { describe, expect, test } from 'vitest';
import { normalizeTag, parseRef } from '../../../src/store/refs.ts';

describe('normalizeTag', () => {
  test.each([
    ['app', 'app:latest'],
    ['app:1', 'app:1'],
    ['my-app_x.y:v1.2-rc_3', 'my-app_x.y:v1.2-rc_3'],
    ['team/app', 'team/app:latest'],
    ['localhost/app:2', 'localhost/app:2'],
    ['localhost:5000/x/y:2', 'localhost:5000/x/y:2'],
    ['ghcr.io/owner/app:1', 'ghcr.io/owner/app:1'],
    ['Registry.Example.com:443/a/b', 'Registry.Example.com:443/a/b:latest'],
    ['docker.io/library/busybox', 'busybox:latest'],
    ['docker.io/team/app:3', 'team/app:3'],
    ['index.docker.io/library/busybox:1', 'busybox:1'],
    ['a__b--c:x', 'a__b--c:x'],
    [`app@sha256:${'a'.repeat(64)}`, `app@sha256:${'a'.repeat(64)}`],
    [`app:1@sha256:${'b'.repeat(64)}`, `app:1@sha256:${'b'.repeat(64)}`],
    [`app:${'t'.repeat(128)}`, `app:${'t'.repeat(128)}`],
  ])('%s → %s', (input, want) => {
    expect(normalizeTag(input)).toBe(want);
  });

  test.each([
    ['', /empty reference/],
    ['App', /must be lowercase/], // upper case in the repository
    ['team/App:1', /must be lowercase/],
    ['app:', /tag ""/], // empty tag
    ['app:-x', /tag "-x"/], // tag must start with a word character
    [`app:${'t'.repeat(129)}`, /tag/], // tag too long
    ['app@sha256:abc', /digest/], // short digest
    [`app@md5:${'a'.repeat(32)}`, /digest/], // unsupported algorithm
    ['a//b', /empty path component/],
    ['app_', /path component/], // trailing separator
    ['-app', /path component/], // leading separator
    ['a...b', /path component/], // separator run other than dashes
    ['https://r.io/app', /URL scheme/],
    ['app name', /white space/],
    [':1', /repository name is empty/],
    [`${'a'.repeat(256)}`, /longer than 255/],
    ['bad_host!:5000/app', /path component|registry/],
  ])('rejects %j', (input, why) => {
    expect(() => normalizeTag(input)).toThrow(why);
    try { normalizeTag(input); } catch (e) { expect((e as { code: string }).code).toBe('BAD_REFERENCE'); }
  });
});

test('parseRef splits domain, path, tag and digest', () => {
  expect(parseRef(`localhost:5000/x/y:2@sha256:${'c'.repeat(64)}`)).toEqual({
    domain: 'localhost:5000', path: 'x/y', tag: '2', digest: `sha256:${'c'.repeat(64)}`,
  });
  expect(parseRef('busybox')).toEqual({ path: 'busybox' });
});
