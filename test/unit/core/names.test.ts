import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { compareNames, decodeName, displayName, encodeName, osPath, sortByName, sortNames } from '../../../src/core/names.ts';

const hex = (h: string) => Buffer.from(h, 'hex');

/** PIECES mixes valid and invalid UTF-8, so their pairs cover the boundaries between them. */
const PIECES = [
  'ff', // invalid byte
  'efbfbd', // U+FFFD itself, valid
  'c3a9', // é
  'f09f9880', // U+1F600 (a surrogate pair in UTF-16)
  'f09f9881', // U+1F601: the same high surrogate, another low one
  'ee8080', // U+E000, above the surrogates
  '61', // a
  'eda080', // an encoded surrogate: invalid UTF-8
  'c3', // a truncated sequence
  'c0af', // an overlong '/': invalid
  'f4908080', // above U+10FFFF: invalid
].map(hex);

describe('names are bytes', () => {
  test('decode → encode gives the same bytes, for random and for edge-case names', () => {
    for (let k = 0; k < 2000; k++) {
      const b = randomBytes(k % 13);
      expect(encodeName(decodeName(b))).toEqual(b);
    }
    for (const a of PIECES) for (const b of PIECES) {
      const bytes = Buffer.concat([a, b]);
      expect(encodeName(decodeName(bytes))).toEqual(bytes);
    }
  });

  test('distinct bytes give distinct strings: \\xff is not U+FFFD', () => {
    const all = PIECES.flatMap((a) => PIECES.map((b) => Buffer.concat([a, b])));
    expect(new Set(all.map((b) => decodeName(b))).size).toBe(all.length);
    expect(decodeName(hex('ff'))).not.toBe(decodeName(hex('efbfbd')));
    expect(decodeName(hex('efbfbd'))).toBe('\uFFFD');
  });

  test('valid UTF-8 names are ordinary strings, handed to fs as they are', () => {
    expect(decodeName(Buffer.from('ünïcødé/😀'))).toBe('ünïcødé/😀');
    expect(osPath('/a/ünï')).toBe('/a/ünï');
    expect(osPath(`/a/${decodeName(hex('ff'))}`)).toEqual(Buffer.concat([Buffer.from('/a/'), hex('ff')]));
  });

  test('sorting is by bytes, as Go sorts paths', () => {
    const all = PIECES.flatMap((a) => PIECES.map((b) => Buffer.concat([a, b])));
    const want = [...all].sort(Buffer.compare);
    expect(sortNames(all.map((b) => decodeName(b))).map(encodeName)).toEqual(want);
    expect(compareNames('b', 'a')).toBeGreaterThan(0);
    expect(compareNames('\uE000', '😀')).toBeLessThan(0); // code units would say otherwise
    expect(compareNames('😁', '😀')).toBeGreaterThan(0); // they differ in the low half of the pair
    expect(sortNames(['b', 'a', 'ab'])).toEqual(['a', 'ab', 'b']);
    expect(sortByName(all.map((b) => ({ name: decodeName(b) }))).map((it) => encodeName(it.name))).toEqual(want);
  });

  test('displayName shows invalid bytes as \\xNN', () => {
    expect(displayName(decodeName(hex('61ffefbfbd')))).toBe('a\\xff\uFFFD');
    expect(displayName('plain é')).toBe('plain é');
  });
});
