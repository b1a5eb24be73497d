import { describe, expect, test } from 'vitest';
import { chainIDs, hexOf, parseDiffID, parseDigest, sha256Of, type DiffID, type Digest } from '../../../src/core/digest.ts';

const HEX64 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('parseDigest', () => {
  test.each([
    `sha256:${HEX64}`,
  ])('accepts %s', (s) => {
    expect(parseDigest(s)).toBe(s);
    expect(parseDiffID(s)).toBe(s);
  });

  test.each([
    ['too short', 'sha256:abc', /invalid digest "sha256:abc": want 64 lower-case hex digits after "sha256:"/],
    ['too long', `sha256:${HEX64}0`, /want 64 lower-case hex digits/],
    ['upper-case hex (the spec wants lower case)', `sha256:${HEX64.toUpperCase()}`, /want 64 lower-case hex digits/],
    ['not hex', `sha256:${HEX64.slice(1)}g`, /want 64 lower-case hex digits/],
    ['a path', 'sha256:../../../../etc/passwd', /invalid digest "sha256:..\/..\/..\/..\/etc\/passwd": want 64 lower-case hex digits/],
    ['64 characters, a path among them', `sha256:${HEX64.slice(0, 60)}/../`, /want 64 lower-case hex digits/],
    ['trailing newline, shown escaped', `sha256:${HEX64}\n`, /invalid digest "sha256:e3b0.*\\n"/],
    ['a terminal escape is shown escaped, never sent', `sha256:\u001b[31m${HEX64}`, /"sha256:\\u001b\[31m/],
    ['no algorithm', HEX64, /invalid digest "e3b0.*": want ALGORITHM:HEX/],
    ['empty', '', /invalid digest "": want ALGORITHM:HEX/],
    ['unknown algorithm', `md5:${HEX64.slice(0, 32)}`, /unknown digest algorithm "md5" in "md5:.*" \(tsbuild reads sha256\)/],
    ['not an algorithm but a property of every object', `constructor:${HEX64}`, /unknown digest algorithm "constructor"/],
    ['algorithms are lower case', `SHA256:${HEX64}`, /unknown digest algorithm "SHA256"/],
    ['sha512 of the wrong length', `sha512:${HEX64}`, /invalid digest "sha512:.*": want 128 lower-case hex digits after "sha512:"/],
    ['well-formed sha512: known, not supported', `sha512:${HEX64}${HEX64}`, /unsupported digest "sha512:e3b0.*…": tsbuild stores sha256 content only/],
    ['a huge value is cut in the message', `sha256:${'a'.repeat(5000)}`, /^invalid digest "sha256:a{50,90}…": want 64/],
  ])('rejects %s', (_case, s, msg) => {
    expect(() => parseDigest(s)).toThrow(msg);
    expect(() => parseDigest(s)).toThrow(expect.objectContaining({ code: 'BAD_DIGEST' }));
  });

  test.each([
    [undefined, 'missing'],
    [null, 'null'],
    [42, 'a number'],
    [{ toString: () => `sha256:${HEX64}` }, 'an object'],
  ])('rejects %s, not a string', (v, kind) => {
    expect(() => parseDigest(v)).toThrow(`invalid digest: ${kind}, not a string`);
  });

  test('names what it parses and carries a hint', () => {
    expect(() => parseDigest('sha256:..', { what: 'index.json manifests[0].digest', hint: 'make it again' }))
      .toThrow(expect.objectContaining({ message: expect.stringMatching(/^index\.json manifests\[0\]\.digest: invalid digest/), hint: 'make it again' }));
  });
});

describe('hexOf, the way from a digest to a file name', () => {
  test('gives the hex of a valid digest', () => {
    expect(hexOf(sha256Of(''))).toBe(HEX64);
  });

  test.each([
    'sha256:../../../../etc/passwd', // a path, branded by a cast without parsing
    `sha512:${HEX64}${HEX64}`, // another algorithm would be filed as sha256
    'sha256:', // nothing
  ])('refuses %s, which no parser validated', (s) => {
    expect(() => hexOf(s as Digest)).toThrow(expect.objectContaining({ code: 'BAD_DIGEST' }));
  });
});

test('sha256Of hashes the empty string to the well-known digest', () => {
  expect(sha256Of('')).toBe(`sha256:${HEX64}`);
});

test('chainIDs follows the image-spec recursion', () => {
  const a = sha256Of('a') as string as DiffID;
  const b = sha256Of('b') as string as DiffID;
  const [c0, c1] = chainIDs([a, b]);
  expect(c0).toBe(a);
  expect(c1).toBe(sha256Of(`${a} ${b}`));
});
