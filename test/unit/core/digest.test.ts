import { describe, expect, test } from 'vitest';
import { chainIDs, parseDigest, sha256Of, type DiffID } from '../../../src/core/digest.ts';

describe('parseDigest', () => {
  test.each([
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ])('accepts %s', (s) => {
    expect(parseDigest(s)).toBe(s);
  });

  test.each([
    ['sha256:abc'], // too short
    ['sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'], // unknown algorithm
    ['sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'], // upper-case hex
    ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'], // no algorithm
  ])('rejects %s', (s) => {
    expect(() => parseDigest(s)).toThrow(/invalid digest/);
  });
});

test('sha256Of hashes the empty string to the well-known digest', () => {
  expect(sha256Of('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('chainIDs follows the image-spec recursion', () => {
  const a = sha256Of('a') as string as DiffID;
  const b = sha256Of('b') as string as DiffID;
  const [c0, c1] = chainIDs([a, b]);
  expect(c0).toBe(a);
  expect(c1).toBe(sha256Of(`${a} ${b}`));
});
