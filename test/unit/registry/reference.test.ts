import { describe, expect, test } from 'vitest';
import { isInsecureHost, parseRegistryRef, refString } from '../../../src/registry/reference.ts';

const D = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('parseRegistryRef', () => {
  test.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/a/b/c:v1', 'localhost:5000/a/b/c:v1'],
    ['127.0.0.1:5000/x:1', '127.0.0.1:5000/x:1'],
    ['ghcr.io/o/r', 'ghcr.io/o/r:latest'],
    [`app@${D}`, `docker.io/library/app@${D}`],
    [`127.0.0.1:5000/app:1@${D}`, `127.0.0.1:5000/app:1@${D}`],
    ['a.b/c__d/e-f.g_h:T_1.0-x', 'a.b/c__d/e-f.g_h:T_1.0-x'],
  ])('%s → %s', (input, want) => {
    expect(refString(parseRegistryRef(input))).toBe(want);
  });

  test('splits registry, repository, tag and digest', () => {
    expect(parseRegistryRef(`127.0.0.1:5000/team/app:2@${D}`)).toEqual({ registry: '127.0.0.1:5000', repository: 'team/app', tag: '2', digest: D });
    expect(parseRegistryRef('x', { defaultTag: 'edge' }).tag).toBe('edge');
  });

  test.each([
    ['http://127.0.0.1:5000/x'], // URL scheme
    ['Busybox'], // uppercase repository
    ['app:'], // empty tag
    ['app:-x'], // tag starting with -
    ['app@sha256:abc'], // short digest
    ['a//b'], // empty component
    ['a/-b'], // component starting with a separator
    ['127.0.0.1:5000/'], // no repository
    [`x:${'t'.repeat(129)}`], // tag too long
  ])('rejects %s', (input) => {
    expect(() => parseRegistryRef(input)).toThrow(/invalid reference/);
  });

  test('a URL scheme gets a hint', () => {
    try {
      parseRegistryRef('https://ghcr.io/x');
      expect.unreachable();
    } catch (e) {
      expect((e as { hint?: string }).hint).toMatch(/plain HTTP/);
    }
  });
});

test.each([
  ['localhost:5000', [], true],
  ['127.0.0.1:41234', [], true],
  ['registry.lan:5000', ['registry.lan'], true],
  ['registry.lan:5000', ['registry.lan:5000'], true],
  ['registry.lan:5000', [], false],
  ['ghcr.io', [], false],
])('isInsecureHost(%s, %j) = %s', (host, list, want) => {
  expect(isInsecureHost(host, list)).toBe(want);
});
